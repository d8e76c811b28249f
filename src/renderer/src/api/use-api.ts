import { inject, type InjectionKey } from 'vue'
import type { ApiClient } from './client'

export const API_KEY: InjectionKey<ApiClient> = Symbol('phonoscope api')

/** The one API client, provided by App.vue. */
export function useApi(): ApiClient {
  const api = inject(API_KEY)
  if (!api) throw new Error('the API client is not provided')
  return api
}

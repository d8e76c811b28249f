import { computed, inject, provide, shallowRef, type ComputedRef, type InjectionKey, type ShallowRef } from 'vue'
import type { ModelSummary } from '@core/api/app'
import { precisionOf, type FrontendParams } from '@core/api/model-card'
import type { ApiClient } from './api'

const MODEL_KEY: InjectionKey<Readonly<ShallowRef<ModelSummary | undefined>>> = Symbol('phonoscope model')

/**
 * App.vue's: the model the back end runs (model.info), asked for at start and again whenever the connection opens
 * (a restarted server may run another model), provided to every view. Returns it, and the unsubscribe of the state
 * handler.
 */
export function provideModel(api: ApiClient): {
  model: Readonly<ShallowRef<ModelSummary | undefined>>
  stop: () => void
} {
  const model = shallowRef<ModelSummary>()
  const ask = (): void =>
    void api.call('model.info', {}).then(
      (info) => (model.value = info),
      () => undefined, // the connection dropped: asked again when it opens
    )
  ask()
  provide(MODEL_KEY, model)
  return { model, stop: api.onState((state) => state === 'open' && ask()) }
}

/** The header's line for the model that runs: name, version, precision (fp32, or its int8 twin) and provider. */
export const modelLine = (model: ModelSummary): string =>
  `${model.name} ${model.version} · ${precisionOf(model.card)} · ${model.provider}`

/**
 * The front end the model runs on (its card's): every spectrogram's geometry (Mel band, hop) comes from it, never a
 * literal; undefined until the back end has answered.
 */
export function useFrontend(): ComputedRef<FrontendParams | undefined> {
  const model = inject(MODEL_KEY)
  if (!model) throw new Error('the model is not provided (App.vue provides it)')
  return computed(() => model.value?.card.frontend)
}

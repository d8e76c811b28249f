import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js'
import { onBeforeUnmount, onMounted, watch, type Ref } from 'vue'
import type { ChartType } from 'chart.js'
import type { ClassName } from '@core/api/classes'

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Legend,
)

export { Chart }

/** One colour per class, readable on both themes. */
export const CLASS_COLOURS: Record<ClassName, string> = {
  normal: '#2a9d8f',
  mild: '#e9a23b',
  moderate_severe: '#d1495b',
}

/** The theme's text colours for axes (the CSS variables of App.vue). */
export function themeColours(): { text: string; grid: string } {
  const style = getComputedStyle(document.documentElement)
  return {
    text: style.getPropertyValue('--text-muted').trim() || '#5b6675',
    grid: style.getPropertyValue('--border').trim() || '#d8dee4',
  }
}

/**
 * A chart.js chart's life in a component: built on mount and again when the theme changes (axis colours), updated in
 * place when its data changes, destroyed with the component. `create` gets the theme's colours.
 */
export function useChart<T extends ChartType>(
  canvas: Ref<HTMLCanvasElement | undefined>,
  theme: () => string,
  create: (canvas: HTMLCanvasElement, colours: { text: string; grid: string }) => Chart<T>,
): { update: (change: (chart: Chart<T>) => void) => void } {
  let chart: Chart<T> | undefined
  const build = (): void => {
    chart?.destroy()
    chart = create(canvas.value!, themeColours())
  }
  watch(theme, build, { flush: 'post' })
  onMounted(build)
  onBeforeUnmount(() => chart?.destroy())
  return {
    update: (change) => {
      if (!chart) return
      change(chart)
      chart.update('none')
    },
  }
}

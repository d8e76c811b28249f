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
import { CLASSES, type ClassName } from '@core/api/classes'

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

export interface ThemeColours {
  text: string
  grid: string
  /** one colour per class, the theme's (at least 4.5:1 on its surfaces) */
  classes: Record<ClassName, string>
}

/** Besides its colour, each class has its own point shape and line dash: colour is never the only sign of a class. */
export const CLASS_POINTS: Record<ClassName, { pointStyle: 'circle' | 'triangle' | 'rect'; borderDash: number[] }> = {
  normal: { pointStyle: 'circle', borderDash: [] },
  mild: { pointStyle: 'triangle', borderDash: [6, 3] },
  moderate_severe: { pointStyle: 'rect', borderDash: [2, 2] },
}

/** The theme's colours for axes and classes (the CSS variables of App.vue). */
export function themeColours(): ThemeColours {
  const style = getComputedStyle(document.documentElement)
  const css = (name: string) => style.getPropertyValue(name).trim()
  return {
    text: css('--text-muted'),
    grid: css('--border'),
    classes: Object.fromEntries(CLASSES.map((c) => [c, css(`--class-${c}`)])) as Record<ClassName, string>,
  }
}

/**
 * A chart.js chart's life in a component: built on mount and again when the theme changes (axis colours), updated in
 * place when its data changes, destroyed with the component. `create` gets the theme's colours.
 */
export function useChart<T extends ChartType>(
  canvas: Ref<HTMLCanvasElement | undefined>,
  theme: () => string,
  create: (canvas: HTMLCanvasElement, colours: ThemeColours) => Chart<T>,
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

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

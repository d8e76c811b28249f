import { hostname, networkInterfaces } from 'node:os'
import { TOKEN_META } from '../core/api/wire'

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']
const EVERY_INTERFACE = new Set(['0.0.0.0', '::'])

/** An address as it appears in a Host header or a URL: IPv6 in brackets. */
export const hostPart = (address: string): string => (address.includes(':') ? `[${address}]` : address)

/**
 * The Host headers this server answers to, lower case: loopback and the bound address, with the port (bare only on
 * port 80). A request naming anything else reached us through a name we never had (DNS rebinding) and is refused.
 * Listening on every interface, those are the interfaces' addresses and the machine's name, as found at start-up.
 */
export function allowedHosts(boundAddress: string, port: number): Set<string> {
  const names = [...LOOPBACK_NAMES, hostPart(boundAddress)]
  if (EVERY_INTERFACE.has(boundAddress)) {
    names.push(hostname())
    for (const address of Object.values(networkInterfaces()).flat()) if (address) names.push(hostPart(address.address))
  }
  const allowed = new Set<string>()
  for (const name of names.map((n) => n.toLowerCase())) {
    allowed.add(`${name}:${port}`)
    if (port === 80) allowed.add(name)
  }
  return allowed
}

/**
 * The header form of the renderer's Content-Security-Policy. The policy is written once, in the meta tag of the page
 * the renderer ships (Electron loads that page from disk, where only the meta tag applies); the header adds what a
 * meta tag cannot say: frame-ancestors.
 */
export function pagePolicy(page: string): string {
  const policy = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(page)?.[1]
  if (!policy) throw new Error('the built UI (index.html) has no Content-Security-Policy meta tag')
  return `${policy}; frame-ancestors 'none'`
}

/** Sent with every response, errors included; nothing the server answers is worth caching (the page holds the secret). */
export const securityHeaders = (policy: string): Record<string, string> => ({
  'Content-Security-Policy': policy,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
})

/**
 * The page carrying the run's secret for the renderer's API client. Another origin cannot read it (same-origin
 * policy), and a DNS-rebinding page, which could, is refused by the Host check before it gets it. An HttpOnly cookie
 * would not do: cookies ignore the port, so a browser would attach it to requests from any page on 127.0.0.1.
 */
export const withSecret = (page: string, secret: string): string =>
  page.replace('</head>', `<meta name="${TOKEN_META}" content="${secret}" />\n</head>`)

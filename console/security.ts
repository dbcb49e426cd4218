// The console's HTTP hardening: the strict Content-Security-Policy and the other security headers on every answer, and which Host and Origin values count as the console itself.

/** No inline script or style anywhere: one stylesheet and one script, both served by the console (console/static/). */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function securityHeaders(tls: boolean): Record<string, string> {
  return {
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    // Pages show run state and people's names: no cache keeps a copy.
    'cache-control': 'no-store',
    ...(tls ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

/**
 * A served run report is a document of its own, with one inline <style> (client/report/render.ts):
 * its CSP allows exactly that style by hash, and no script at all.
 */
export function reportCsp(styleHash: string | undefined): string {
  const style = styleHash ? `'sha256-${styleHash}'` : "'none'";
  return `default-src 'none'; style-src ${style}; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`;
}

/**
 * The origins (scheme://host:port) the console answers as: the URL it listens on (and `localhost`
 * for a loopback address) plus any --public-url. Undefined when it listens on every address with
 * no --public-url: then only the Host the browser used can be trusted, and the CSRF token carries
 * the protection.
 */
export function ownOrigins(url: string, host: string, publicUrls: string[]): Set<string> | undefined {
  const given = publicUrls.map((u) => new URL(u).origin);
  if (['0.0.0.0', '::', ''].includes(host) && !given.length) return undefined;
  const own = new URL(url);
  const origins = new Set([own.origin, ...given]);
  if (host === '127.0.0.1' || host === '::1') origins.add(`${own.protocol}//localhost:${own.port}`);
  return origins;
}

/**
 * Who is signed in to a face, as its server says (`GET /<face>/session`: the hub for the
 * app and the console, the shop's node for the dashboard): whether, what kind
 * of person, a name to show (a shopper's phone masked), the scopes. Never a token: the
 * server keeps the tokens (a backend-for-frontend, RFC 10017) and the browser holds only
 * an HttpOnly cookie it cannot read. Whatever else an answer carries is dropped here.
 *
 * Every call that may change something, and every GraphQL call, sends `CSRF_HEADERS`: the
 * server accepts the session cookie only with it (a cross-site form cannot send it).
 */
export const CSRF_HEADERS: Readonly<Record<string, string>> = { 'X-Mallnet-CSRF': '1' };

export type SessionFace = 'app' | 'console' | 'dashboard';

export type Session =
  | { signedIn: false; loginUrl: string }
  | { signedIn: true; who: string; name: string | null; scopes: string[] };

export function loginUrl(face: SessionFace): string {
  return `/${face}/login`;
}

/** The sign-in that comes back to `page` (the server follows only this face's pages). */
export function loginUrlBackTo(url: string, page: string): string {
  return `${url}?${new URLSearchParams({ next: page }).toString()}`;
}

/** The server's answer as a `Session`, keeping only the fields named here. */
export function sessionFrom(face: SessionFace, body: unknown): Session {
  const data = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (data.signedIn !== true) return { signedIn: false, loginUrl: loginUrl(face) };
  const scopes = Array.isArray(data.scopes)
    ? data.scopes.filter((s): s is string => typeof s === 'string')
    : [];
  return {
    signedIn: true,
    who: typeof data.who === 'string' ? data.who : '',
    name: typeof data.name === 'string' ? data.name : null,
    scopes,
  };
}

export async function fetchSession(face: SessionFace): Promise<Session> {
  const response = await fetch(`/${face}/session`, {
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (!response.ok) throw new Error(`the session check answered ${String(response.status)}`);
  return sessionFrom(face, await response.json());
}

/** Ends the session at the server, which revokes its refresh token and clears the cookie. */
export async function signOut(face: SessionFace): Promise<void> {
  const response = await fetch(`/${face}/logout`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { ...CSRF_HEADERS },
  });
  if (!response.ok) throw new Error(`signing out answered ${String(response.status)}`);
}

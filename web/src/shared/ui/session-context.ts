/**
 * Who is signed in, for the pages inside `SessionGate`: their name and the scopes their
 * server granted, so navigation shows only what the role may use. The server still checks
 * every call: hiding a link is for the person, never the protection.
 */
import { createContext, useContext } from 'react';

import type { Session } from '../session/session';

export type SignedIn = Extract<Session, { signedIn: true }>;

export const SessionContext = createContext<SignedIn | null>(null);

/** The signed-in session (inside `SessionGate`), else null. */
export function useSession(): SignedIn | null {
  return useContext(SessionContext);
}

/** Whether the session holds any of `scopes` (an empty list: anyone signed in). */
export function mayUse(session: SignedIn | null, scopes: readonly string[]): boolean {
  if (session === null) return false;
  return scopes.length === 0 || scopes.some((scope) => session.scopes.includes(scope));
}

/**
 * Problem codes from the hub's and the node's GraphQL APIs (the `ProblemCode` enums of
 * graphql/hub.graphql and graphql/node.graphql) as catalogue keys: a person always reads
 * a sentence in their language, never a code. A code this build does not know yet (a newer
 * server) reads as the general `problem.UNKNOWN`.
 */
import type { TFunction } from 'i18next';

import en from './en.json';

export type ProblemKey = keyof typeof en.problem;

export function isKnownProblem(code: string): code is ProblemKey {
  return Object.hasOwn(en.problem, code);
}

export function problemMessageKey(code: string | null | undefined): `problem.${ProblemKey}` {
  return code && isKnownProblem(code) ? `problem.${code}` : 'problem.UNKNOWN';
}

export function problemMessage(t: TFunction, code: string | null | undefined): string {
  return t(problemMessageKey(code));
}

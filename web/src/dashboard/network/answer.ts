/** What the node answered from the hub: null when done, else the problem code to show. */
export function refusal(
  answer: { __typename?: string; code?: string } | null | undefined,
  failed: boolean,
): string | null {
  if (!answer || failed) return 'UNKNOWN';
  return answer.__typename === 'HubAnswer' ? (answer.code ?? 'UNKNOWN') : null;
}

import { readFileSync } from 'node:fs';

import { Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';

import en from './en.json';
import fa from './fa.json';
import { createI18n } from './index';
import { problemMessage, problemMessageKey } from './problems';

function problemCodes(sdlFile: string): string[] {
  const sdl = readFileSync(new URL(`../../../../graphql/${sdlFile}`, import.meta.url), 'utf8');
  const codes = parse(sdl).definitions.flatMap((definition) =>
    definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'ProblemCode'
      ? (definition.values ?? []).map((value) => value.name.value)
      : [],
  );
  expect(codes.length, `${sdlFile} has a ProblemCode enum`).toBeGreaterThan(5);
  return codes;
}

describe.each(['hub.graphql', 'node.graphql'])('every ProblemCode of %s', (sdlFile) => {
  const codes = problemCodes(sdlFile);
  it.each(Object.entries({ fa, en }))('has a sentence in %s', (_lang, catalogue) => {
    const messages: Record<string, string> = catalogue.problem;
    const missing = codes.filter((code) => !messages[code]?.trim());
    expect(missing).toEqual([]);
  });
});

describe('problem messages', () => {
  it('are sentences in the language, never the code', () => {
    const t = createI18n('fa').t;
    expect(problemMessage(t, 'GRANT_USED')).toBe(fa.problem.GRANT_USED);
    expect(problemMessage(createI18n('en').t, 'GRANT_USED')).toBe(en.problem.GRANT_USED);
  });
  it('read an unknown or missing code as the general message', () => {
    expect(problemMessageKey('SOMETHING_NEW')).toBe('problem.UNKNOWN');
    expect(problemMessageKey('toString')).toBe('problem.UNKNOWN');
    expect(problemMessageKey(null)).toBe('problem.UNKNOWN');
    expect(problemMessage(createI18n('en').t, 'SOMETHING_NEW')).toBe(en.problem.UNKNOWN);
  });
});

// Fails when the catalogues disagree: a key in one language only, an empty message, a
// {{placeholder}} in one language only, a key used in the source (t('…')) that neither
// catalogue has, or text written straight into JSX instead of through the catalogue.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// The shared catalogue and each face's (src/<face>/messages/<lang>.json and <part>.<lang>.json), merged at the top
// as src/shared/i18n/index.ts merges them: two files may not share a top-level key.
const folders = ['src/shared/i18n', 'src/app/messages', 'src/dashboard/messages', 'src/console/messages'];
const problems = [];
const catalogues = Object.fromEntries(
  ['fa', 'en'].map((lang) => {
    const merged = {};
    for (const folder of folders) {
      // <lang>.json, and a page's own <part>.<lang>.json beside it.
      const names = readdirSync(join(root, folder)).filter(
        (name) => name === `${lang}.json` || name.endsWith(`.${lang}.json`),
      );
      for (const name of names) {
        const part = JSON.parse(readFileSync(join(root, folder, name), 'utf8'));
        for (const key of Object.keys(part)) {
          if (Object.hasOwn(merged, key)) problems.push(`${lang}: ${folder}/${name} repeats the top-level key ${key}`);
        }
        Object.assign(merged, part);
      }
    }
    return [lang, merged];
  }),
);
// Every catalogue file is one the faces load (src/shared/i18n/index.ts imports it).
const loader = readFileSync(join(root, 'src/shared/i18n/index.ts'), 'utf8');
for (const folder of folders.slice(1)) {
  for (const name of readdirSync(join(root, folder)).filter((n) => n.endsWith('.json'))) {
    const path = `${folder.replace(/^src\//, '../../')}/${name}`;
    if (!loader.includes(`'${path}'`)) problems.push(`src/shared/i18n/index.ts does not load ${folder}/${name}`);
  }
}

function flatten(tree, prefix = '') {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null
      ? flatten(value, `${prefix}${key}.`)
      : [[`${prefix}${key}`, value]],
  );
}

const messages = Object.fromEntries(
  Object.entries(catalogues).map(([lang, tree]) => [lang, new Map(flatten(tree))]),
);
// {{values}} and <tags> of <Trans> components: the same in both languages.
const placeholders = (text) =>
  [...String(text).matchAll(/\{\{\s*(\w+)\s*\}\}|<\/?(\w+)\s*\/?>/g)].map((m) => m[0]).sort();

for (const [lang, own] of Object.entries(messages)) {
  for (const [other, theirs] of Object.entries(messages)) {
    if (other === lang) continue;
    for (const key of theirs.keys()) {
      if (!own.has(key)) problems.push(`${lang}: missing ${key} (present in ${other})`);
    }
  }
  for (const [key, text] of own) {
    if (typeof text !== 'string' || !text.trim()) problems.push(`${lang}: ${key} is empty`);
  }
}
for (const [key, text] of messages.en) {
  const fa = messages.fa.get(key);
  if (fa !== undefined && placeholders(text).join() !== placeholders(fa).join()) {
    problems.push(`${key}: placeholders differ (en ${placeholders(text)}, fa ${placeholders(fa)})`);
  }
}

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'gql' ? [] : sources(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

// Literal keys: t('a.b'), t("a.b"), i18nKey="a.b"; template keys (t(`face.${face}.title`))
// must match at least one key with the variable part as a wildcard.
const used = /\bt\(\s*(['"`])([^'"`]+)\1|i18nKey=(['"])([^'"]+)\3/g;
// Letters directly between JSX tags: text that bypassed the catalogue.
const jsxText = />[^<>{}`]*[A-Za-z\u0600-\u06FF][^<>{}`]*<\//g;
for (const file of sources(join(root, 'src'))) {
  const text = readFileSync(file, 'utf8');
  const where = relative(root, file);
  for (const match of text.matchAll(used)) {
    const key = match[2] ?? match[4];
    const pattern = new RegExp(`^${key.replace(/\./g, '\\.').replace(/\$\{[^}]+\}/g, '[^.]+')}$`);
    if (![...messages.en.keys()].some((known) => pattern.test(known))) {
      problems.push(`${where}: uses ${key}, which no catalogue has`);
    }
  }
  for (const match of text.matchAll(jsxText)) {
    problems.push(`${where}: text outside the catalogue: ${match[0].trim()}`);
  }
}

if (problems.length) {
  console.error(`i18n check: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`i18n check: ${messages.en.size} messages, each in Persian and English`);

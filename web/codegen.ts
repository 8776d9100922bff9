/**
 * Typed GraphQL from the committed SDL (graphql/*.graphql, made by `make schema`): the
 * hub's for the shopper app and the mall console, the node's for the shop dashboard. The
 * output (src/gql/) is generated on every check and build, never committed: a schema
 * change that breaks an operation or a page fails codegen or `tsc --noEmit`.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

// The API's custom scalars: Rial, Points and Amount are JSON integers up to 2^53-1.
const scalars = {
  Rial: 'number',
  Points: 'number',
  Amount: 'number',
  DateTime: 'string',
  Date: 'string',
  JSON: 'unknown',
};

const config = {
  scalars,
  strictScalars: true,
  enumsAsTypes: true,
  useTypeImports: true,
  avoidOptionals: false,
};

const codegen: CodegenConfig = {
  overwrite: true,
  ignoreNoDocuments: false,
  generates: {
    'src/gql/hub/': {
      schema: '../graphql/hub.graphql',
      documents: ['src/app/**/*.{ts,tsx}', 'src/console/**/*.{ts,tsx}', '!src/**/*.test.*'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config,
    },
    'src/gql/node/': {
      schema: '../graphql/node.graphql',
      documents: ['src/dashboard/**/*.{ts,tsx}', '!src/**/*.test.*'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config,
    },
  },
};

export default codegen;

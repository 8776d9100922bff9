/**
 * Start a face: the catalogues in the saved language, `<html lang dir>`, Mantine with the
 * matching direction, the GraphQL client, then the face's page in #root.
 */
import '@fontsource-variable/vazirmatn';
import '@mantine/core/styles.css';

import { DirectionProvider, MantineProvider } from '@mantine/core';
import { type ComponentType, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { Provider as GraphQLProvider } from 'urql';

import { createGraphQLClient } from '../graphql/client';
import { applyLanguage, createI18n, directionOf, savedLanguage } from '../i18n';
import { cssVariablesResolver, theme } from './theme';

export function bootFace(Page: ComponentType): void {
  const lang = savedLanguage();
  applyLanguage(lang);
  const i18n = createI18n(lang);
  const client = createGraphQLClient();
  const root = document.getElementById('root');
  if (!root) throw new Error('the page has no #root element');
  createRoot(root).render(
    <StrictMode>
      <DirectionProvider initialDirection={directionOf(lang)} detectDirection={false}>
        <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver}>
          <I18nextProvider i18n={i18n}>
            <GraphQLProvider value={client}>
              <Page />
            </GraphQLProvider>
          </I18nextProvider>
        </MantineProvider>
      </DirectionProvider>
    </StrictMode>,
  );
}

// Message keys are typed: an unknown key passed to t fails `tsc`.
import 'i18next';

import type { catalogues } from './index';

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'translation';
    resources: { translation: (typeof catalogues)['en'] };
  }
}

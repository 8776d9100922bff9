import { bootFace } from '../shared/ui/boot';
import { Home } from './Home';
import { registerServiceWorker } from './pwa';

bootFace(Home);
registerServiceWorker();

import { bootFace } from '../shared/ui/boot';
import { Home } from './Home';

bootFace(Home);

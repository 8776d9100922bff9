/** The dashboard's offers: the list, a new offer, each offer's page and a draft's editor
 * (the editor for managers only; the node refuses anyone else's changes anyway). */
import { Route, Routes } from 'react-router';

import { SHOP_MANAGE } from '../../shared/scopes';
import { RequireScope } from '../../shared/ui/FaceNav';
import { OfferDetail } from './OfferDetail';
import { EditOffer, NewOffer } from './OfferEditor';
import { OfferList } from './OfferList';

export function OffersPage() {
  return (
    <Routes>
      <Route index element={<OfferList />} />
      <Route path="new" element={<RequireScope scopes={SHOP_MANAGE}><NewOffer /></RequireScope>} />
      <Route path=":id" element={<OfferDetail />} />
      <Route path=":id/edit" element={<RequireScope scopes={SHOP_MANAGE}><EditOffer /></RequireScope>} />
    </Routes>
  );
}

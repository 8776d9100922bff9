/** The dashboard's members: the filtered list, and each member's page under it. */
import { Route, Routes } from 'react-router';

import { MemberDetail } from './MemberDetail';
import { MemberList } from './MemberList';

export function MembersPage() {
  return (
    <Routes>
      <Route index element={<MemberList />} />
      <Route path=":id" element={<MemberDetail />} />
    </Routes>
  );
}

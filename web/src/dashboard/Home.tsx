import { useQuery } from 'urql';

import { graphql } from '../gql/node';
import { ComingSoon, ServerLine } from '../shared/ui/FaceShell';
import { SessionGate } from '../shared/ui/SessionGate';

const DashboardServerInfo = graphql(`
  query DashboardServerInfo {
    serverInfo {
      role
      version
      shop
    }
  }
`);

/** The shop dashboard's shell (on the shop's own node) until its pages arrive. */
export function Home() {
  const [{ data, fetching, error }] = useQuery({ query: DashboardServerInfo });
  const info = data?.serverInfo;
  const status = (
    <ServerLine fetching={fetching} failed={!!error} version={info?.version} shop={info?.shop} />
  );
  return (
    <SessionGate face="dashboard">
      <ComingSoon face="dashboard" status={status} />
    </SessionGate>
  );
}

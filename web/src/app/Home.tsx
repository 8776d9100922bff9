import { useQuery } from 'urql';

import { graphql } from '../gql/hub';
import { ComingSoon, ServerLine } from '../shared/ui/FaceShell';
import { SessionGate } from '../shared/ui/SessionGate';

const AppServerInfo = graphql(`
  query AppServerInfo {
    serverInfo {
      role
      version
    }
  }
`);

/** The shopper app's shell until its pages arrive. */
export function Home() {
  const [{ data, fetching, error }] = useQuery({ query: AppServerInfo });
  const status = (
    <ServerLine fetching={fetching} failed={!!error} version={data?.serverInfo.version} />
  );
  return (
    <SessionGate face="app">
      <ComingSoon face="app" status={status} />
    </SessionGate>
  );
}

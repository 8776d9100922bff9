import { useQuery } from 'urql';

import { graphql } from '../gql/hub';
import { ComingSoon, ServerLine } from '../shared/ui/FaceShell';
import { SessionGate } from '../shared/ui/SessionGate';

const ConsoleServerInfo = graphql(`
  query ConsoleServerInfo {
    serverInfo {
      role
      version
    }
  }
`);

/** The mall console's shell until its pages arrive. */
export function Home() {
  const [{ data, fetching, error }] = useQuery({ query: ConsoleServerInfo });
  const status = (
    <ServerLine fetching={fetching} failed={!!error} version={data?.serverInfo.version} />
  );
  return (
    <SessionGate face="console">
      <ComingSoon face="console" status={status} />
    </SessionGate>
  );
}

import { useQuery } from 'urql';

import { graphql } from '../gql/hub';
import { ComingSoon, FaceShell, ServerLine } from '../shared/ui/FaceShell';

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
    <FaceShell face="console">
      <ComingSoon face="console" status={status} />
    </FaceShell>
  );
}

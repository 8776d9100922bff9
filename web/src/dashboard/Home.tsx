import { Text } from '@mantine/core';
import { useQuery } from 'urql';

import { graphql } from '../gql/node';
import { ServerLine } from '../shared/ui/FaceShell';
import { SessionGate } from '../shared/ui/SessionGate';
import { Till } from './till/Till';

const DashboardServerInfo = graphql(`
  query DashboardServerInfo {
    serverInfo {
      role
      version
      shop
    }
  }
`);

/** The shop dashboard on the shop's own node: the till, and a line about the server. */
export function Home() {
  const [{ data, fetching, error }] = useQuery({ query: DashboardServerInfo });
  const info = data?.serverInfo;
  return (
    <SessionGate face="dashboard">
      <Till shop={info?.shop ?? ''} />
      <footer style={{ marginBlockStart: 'var(--mantine-spacing-xl)' }}>
        <Text size="xs" c="dimmed" role="status">
          <ServerLine
            fetching={fetching}
            failed={!!error}
            version={info?.version}
            shop={info?.shop}
          />
        </Text>
      </footer>
    </SessionGate>
  );
}

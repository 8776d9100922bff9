/**
 * A face's sections for staff and management: a row of links that wraps at tablet width,
 * showing only the sections the signed-in role may use, and the guard each section's route
 * sits behind (a person who opens an address their role may not use reads why, and the
 * server refuses the calls anyway).
 */
import { Alert, Button, Group } from '@mantine/core';
import type { Icon } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';

import { mayUse, useSession } from './session-context';

export interface Section {
  /** The route under the face's base ('' for its first page). */
  to: string;
  /** The catalogue key of its name. */
  label: string;
  icon: Icon;
  /** Any one of these scopes opens it. */
  scopes: readonly string[];
}

export function FaceNav({ label, sections }: { label: string; sections: readonly Section[] }) {
  const { t } = useTranslation();
  const session = useSession();
  const visible = sections.filter((section) => mayUse(session, section.scopes));
  return (
    <nav aria-label={label}>
      <Group gap={4} wrap="wrap" mb="lg">
        {visible.map(({ to, label: name, icon: SectionIcon }) => (
          <NavLink key={to} to={`/${to}`} end={to === ''} style={{ textDecoration: 'none' }}>
            {({ isActive }) => (
              <Button
                component="span"
                variant={isActive ? 'outline' : 'subtle'}
                fw={isActive ? 700 : 500}
                leftSection={<SectionIcon size={18} aria-hidden />}
              >
                {t(name as never)}
              </Button>
            )}
          </NavLink>
        ))}
      </Group>
    </nav>
  );
}

/** The page when the role may use it, else a sentence saying it may not. */
export function RequireScope({
  scopes,
  children,
}: {
  scopes: readonly string[];
  children: ReactNode;
}) {
  const { t } = useTranslation();
  const session = useSession();
  if (mayUse(session, scopes)) return <>{children}</>;
  return (
    <Alert color="red" title={t('access.forbidden')} role="alert" data-testid="forbidden">
      {t('access.forbiddenHint')}
    </Alert>
  );
}

/** Each section's page behind its own scopes: `guard('members', <MembersPage />)`. */
export function guardOf<S extends Section>(sections: readonly S[]) {
  return (to: S['to'], page: ReactNode) => {
    const section = sections.find((s) => s.to === to);
    return <RequireScope scopes={section?.scopes ?? []}>{page}</RequireScope>;
  };
}

/**
 * The till: find the shopper (or enrol them), sell, show the receipt, refund from the
 * member's purchases. On a 1280 px till the search, the member and their purchases sit on
 * one side, the sale on the other; narrower screens stack them, the sale after the member
 * (till.module.css). The shop's code, for a shopper to scan with the app's Pay page, is a
 * button under the search (ShopCode).
 */
import { Group, Paper, Text } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import type { MemberView } from './common';
import { EnrolForm } from './EnrolForm';
import { FindShopper } from './FindShopper';
import { MemberPanel } from './MemberPanel';
import { PurchaseList } from './PurchaseList';
import { Receipt } from './Receipt';
import { type Recorded, SaleForm } from './SaleForm';
import { ShopCode } from './ShopCode';
import styles from './till.module.css';

const TillPolicy = graphql(`
  query TillPolicy {
    clubPolicy {
      version
      productGroups {
        code
        nameFa
        nameEn
      }
    }
  }
`);

type View =
  | { kind: 'idle' }
  | { kind: 'enrol'; phone: string | null }
  | { kind: 'sale' }
  | { kind: 'receipt'; recorded: Recorded };

export function Till({ shop }: { shop: string }) {
  const { t } = useTranslation();
  const [{ data: policy }] = useQuery({ query: TillPolicy });
  const groups = policy?.clubPolicy.productGroups ?? [];
  const [member, setMember] = useState<MemberView | null>(null);
  const [view, setView] = useState<View>({ kind: 'idle' });
  const [sales, setSales] = useState(0);

  const nextShopper = () => {
    setMember(null);
    setView({ kind: 'idle' });
    setSales((n) => n + 1);
  };
  const serve = (found: MemberView) => {
    setMember(found);
    setView({ kind: 'sale' });
    setSales((n) => n + 1);
  };

  let main;
  if (view.kind === 'enrol') {
    main = (
      <EnrolForm
        phone={view.phone}
        onEnrolled={serve}
        onCancel={() => {
          setView({ kind: 'idle' });
        }}
      />
    );
  } else if (view.kind === 'receipt') {
    main = (
      <Receipt recorded={view.recorded} shopName={shop} groups={groups} onNext={nextShopper} />
    );
  } else if (view.kind === 'sale' && member && groups.length > 0) {
    main = (
      <SaleForm
        key={`${member.id}:${sales}`}
        member={member}
        shop={shop}
        groups={groups}
        onRecorded={(recorded) => {
          setMember(recorded.member);
          setView({ kind: 'receipt', recorded });
          setSales((n) => n + 1);
        }}
        onCancel={() => {
          setSales((n) => n + 1);
        }}
      />
    );
  } else {
    main = (
      <Paper withBorder p="md" radius="md">
        <Text c="dimmed">{member ? t('till.loading') : t('till.idle')}</Text>
      </Paper>
    );
  }

  return (
    <div className={styles.layout}>
      <div className={styles.find}>
        <FindShopper
          focusKey={member ? -1 : sales}
          onFound={(found) => {
            if (found.kind === 'member') serve(found.member);
            else {
              setMember(null);
              setView({ kind: 'enrol', phone: found.phone });
            }
          }}
        />
        <Group mt="sm">
          <ShopCode shop={shop} />
        </Group>
      </div>
      <div className={styles.main}>{main}</div>
      {member ? (
        <>
          <div className={styles.member}>
            <MemberPanel member={member} onClose={nextShopper} />
          </div>
          <div className={styles.list}>
            <PurchaseList
              key={`${member.id}:${sales}`}
              member={member}
              shop={shop}
              onMember={setMember}
            />
          </div>
        </>
      ) : null}
    </div>
  );
}

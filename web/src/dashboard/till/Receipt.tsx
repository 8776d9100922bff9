/** The receipt of a sale just recorded: to show the shopper, or print (print CSS). */
import { Button, Divider, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { IconPrinter } from '@tabler/icons-react';
import { type ReactNode, useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';

import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { Bdi, MaskedPhone, Toman } from '../../shared/ui/Bdi';
import { useLocalName } from './common';
import styles from './receipt.module.css';
import type { ProductGroupView, Recorded } from './SaleForm';

function Row(props: { label: ReactNode; children: ReactNode; strong?: boolean }) {
  return (
    <div className={styles.row}>
      <Text size="sm" fw={props.strong ? 700 : 400}>
        {props.label}
      </Text>
      <Text size="sm" fw={props.strong ? 700 : 400}>
        {props.children}
      </Text>
    </div>
  );
}

export function Receipt(props: {
  recorded: Recorded;
  shopName: string;
  groups: ProductGroupView[];
  onNext: () => void;
}) {
  const { t, i18n } = useTranslation();
  const localName = useLocalName();
  const next = useRef<HTMLButtonElement>(null);
  const { purchase, member } = props.recorded;
  const groupName = (code: string) => {
    const group = props.groups.find((g) => g.code === code);
    return group ? localName(group) : code;
  };
  const paidHere = purchase.totalRial - purchase.creditSpentRial - purchase.networkPaidRial;
  useEffect(() => {
    next.current?.focus();
  }, []);
  return (
    <Stack gap="sm">
      <Paper
        withBorder
        p="md"
        radius="md"
        className={styles.receipt}
        component="section"
        aria-labelledby="receipt-title"
        data-testid="receipt"
      >
        <Stack gap={6}>
          <Title order={2} size="h4" id="receipt-title">
            {t('till.receipt.title')}
          </Title>
          <Text size="sm">
            <Bdi dir="auto">{props.shopName}</Bdi>
          </Text>
          <Row label={t('till.receipt.number')}>
            <Bdi>{purchase.receiptId}</Bdi>
          </Row>
          <Row label={t('till.receipt.when')}>
            <Bdi>{formatJalaliDateTime(purchase.occurredAt, i18n.language)}</Bdi>
          </Row>
          <Row label={t('till.receipt.member')}>
            {member.name ? <>{member.name} · </> : null}
            <MaskedPhone e164={member.phone} />
          </Row>
          <Divider />
          {purchase.lines.map((line, index) => (
            <Row key={index} label={groupName(line.productGroup)}>
              <Toman rial={line.amountRial} />
            </Row>
          ))}
          <Divider />
          <Row label={t('till.receipt.total')} strong>
            <Toman rial={purchase.totalRial} />
          </Row>
          {purchase.creditSpentRial > 0 ? (
            <Row label={t('till.receipt.credit')}>
              <Toman rial={purchase.creditSpentRial} />
            </Row>
          ) : null}
          {purchase.networkPaidRial > 0 ? (
            <Row label={t('till.receipt.network')}>
              <Toman rial={purchase.networkPaidRial} />
            </Row>
          ) : null}
          <Row label={t('till.receipt.paid')} strong>
            <Toman rial={paidHere} />
          </Row>
          <Divider />
          <Row label={t('till.receipt.earned')}>
            <Bdi>
              {formatInteger(purchase.earnedPoints + purchase.frequencyPoints, i18n.language)}
            </Bdi>{' '}
            {t('money.points')} ·{' '}
            <Toman rial={purchase.earnedCreditRial + purchase.frequencyCreditRial} />
          </Row>
          <Row label={t('till.receipt.balance')}>
            <Bdi>{formatInteger(member.balances.points, i18n.language)}</Bdi> {t('money.points')} ·{' '}
            <Toman rial={member.balances.creditRial} />
          </Row>
        </Stack>
      </Paper>
      <Group gap="sm" className={styles.noPrint}>
        <Button ref={next} onClick={props.onNext}>
          {t('till.receipt.next')}
        </Button>
        <Button
          variant="default"
          leftSection={<IconPrinter size={18} aria-hidden />}
          onClick={() => {
            window.print();
          }}
        >
          {t('till.receipt.print')}
        </Button>
      </Group>
    </Stack>
  );
}

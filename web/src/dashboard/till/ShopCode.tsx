/**
 * The till's shop code: a large QR of "mallnet:shop:<slug>" for the shopper to scan with
 * the app's Pay page, which then chooses this shop for her payment code. Black on white
 * (QrCode), whatever the till's theme.
 */
import { Button, Modal, Stack, Text } from '@mantine/core';
import { IconQrcode } from '@tabler/icons-react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import { shopCodePayload } from '../../shared/format/shopCode';
import { Bdi } from '../../shared/ui/Bdi';
import { QrCode } from '../../shared/ui/QrCode';

export function ShopCode({ shop }: { shop: string }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        variant="default"
        leftSection={<IconQrcode size={18} aria-hidden />}
        onClick={() => {
          setOpen(true);
        }}
        disabled={shop === ''}
      >
        {t('till.shopCode.open')}
      </Button>
      <Modal
        opened={open}
        onClose={() => {
          setOpen(false);
        }}
        title={t('till.shopCode.title')}
        closeButtonProps={{ 'aria-label': t('till.shopCode.close') }}
        size="auto"
        centered
      >
        <Stack gap="sm" align="center" data-testid="shop-code">
          <QrCode
            value={shopCodePayload(shop)}
            label={t('till.shopCode.qrLabel', { shop })}
            size={320}
          />
          <Text fz={28} fw={800}>
            <Bdi>{shop}</Bdi>
          </Text>
          <Text size="sm" ta="center" maw={320}>
            {t('till.shopCode.hint')}
          </Text>
        </Stack>
      </Modal>
    </>
  );
}

/**
 * "Send a message" on the members page, for managers: a dialog for the list as it is
 * filtered now (the members page's own filter, so the send reaches exactly whom the list
 * shows). Each opening of the dialog is one send: its idempotency key is made when the
 * dialog opens, so a double click, or a retry after a lost answer, sends once. Once sent,
 * the dialog follows the send's progress, with a link to its messages in the log.
 * Full screen on a phone.
 */
import { Button, Modal } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { IconSend } from '@tabler/icons-react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

import { SHOP_MANAGE } from '../../shared/scopes';
import { mayUse, useSession } from '../../shared/ui/session-context';
import type { MemberFilterVariables } from '../members/filters';
import { BroadcastProgress } from './BroadcastProgress';
import { SendForm } from './SendForm';

function SendDialog({ filter, onClose }: { filter: MemberFilterVariables; onClose: () => void }) {
  const [sent, setSent] = useState<string | null>(null);
  if (sent !== null) return <BroadcastProgress id={sent} />;
  return <SendForm filter={filter} onSent={setSent} onCancel={onClose} />;
}

/** The button and its dialog; nothing for staff who may not send (the node refuses them). */
export function SendToMembers({ filter }: { filter: MemberFilterVariables }) {
  const { t } = useTranslation();
  const session = useSession();
  const [open, setOpen] = useState(false);
  const phone = useMediaQuery('(max-width: 40em)');
  if (!mayUse(session, SHOP_MANAGE)) return null;
  const close = () => {
    setOpen(false);
  };
  return (
    <>
      <Button
        leftSection={<IconSend size={18} aria-hidden />}
        onClick={() => {
          setOpen(true);
        }}
        data-testid="send-open"
      >
        {t('messaging.send.open')}
      </Button>
      <Modal
        opened={open}
        onClose={close}
        title={t('messaging.send.title')}
        closeButtonProps={{ 'aria-label': t('messaging.send.close') }}
        size="lg"
        fullScreen={phone}
        data-testid="send-dialog"
      >
        {/* Mounted only while open: each opening starts a new send with a new key. */}
        {open ? <SendDialog filter={filter} onClose={close} /> : null}
      </Modal>
    </>
  );
}

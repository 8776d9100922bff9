/**
 * A button that opens the camera and reads one QR code: what a handheld scanner would
 * have typed, for a till without one. The labels come from the face's catalogue.
 */
import { Button, Modal, Stack, Text } from '@mantine/core';
import { IconCamera } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';

import { qrDetector } from './barcodeDetector';

export interface ScanLabels {
  open: string;
  title: string;
  hint: string;
  failed: string;
  close: string;
}

const SCAN_EVERY_MS = 200;

function CameraReader(props: { onRead: (text: string) => void; labels: ScanLabels }) {
  const video = useRef<HTMLVideoElement>(null);
  const [failed, setFailed] = useState(false);
  // The camera starts once per opening, whatever the parent renders meanwhile.
  const onRead = useRef(props.onRead);
  useEffect(() => {
    onRead.current = props.onRead;
  }, [props.onRead]);
  useEffect(() => {
    let stream: MediaStream | null = null;
    let timer: number | undefined;
    const state = { live: true };
    // Read through a call: the answer changes while a detection is awaited.
    const alive = () => state.live;
    const start = async () => {
      const detector = await qrDetector();
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'environment' },
        audio: false,
      });
      const element = video.current;
      if (!state.live || !element) {
        stream.getTracks().forEach((track) => {
          track.stop();
        });
        return;
      }
      element.srcObject = stream;
      await element.play();
      const tick = async () => {
        if (!state.live) return;
        const found = element.readyState >= 2 ? await detector.detect(element) : [];
        const text = found[0]?.rawValue;
        if (text && alive()) {
          state.live = false;
          onRead.current(text);
          return;
        }
        timer = window.setTimeout(() => void tick(), SCAN_EVERY_MS);
      };
      await tick();
    };
    start().catch(() => {
      if (state.live) setFailed(true);
    });
    return () => {
      state.live = false;
      window.clearTimeout(timer);
      stream?.getTracks().forEach((track) => {
        track.stop();
      });
    };
  }, []);
  return (
    <Stack gap="sm">
      <video ref={video} muted playsInline style={{ inlineSize: '100%', borderRadius: 8 }} />
      <Text size="sm" c={failed ? 'red.9' : 'dimmed'} role={failed ? 'alert' : undefined}>
        {failed ? props.labels.failed : props.labels.hint}
      </Text>
    </Stack>
  );
}

export function ScanButton(props: {
  onRead: (text: string) => void;
  labels: ScanLabels;
  disabled?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const { onRead } = props;
  return (
    <>
      <Button
        variant="default"
        leftSection={<IconCamera size={18} aria-hidden />}
        onClick={() => {
          setOpen(true);
        }}
        disabled={props.disabled ?? false}
      >
        {props.labels.open}
      </Button>
      <Modal
        opened={open}
        onClose={() => {
          setOpen(false);
        }}
        title={props.labels.title}
        closeButtonProps={{ 'aria-label': props.labels.close }}
      >
        {open ? (
          <CameraReader
            labels={props.labels}
            onRead={(text) => {
              setOpen(false);
              onRead(text);
            }}
          />
        ) : null}
      </Modal>
    </>
  );
}

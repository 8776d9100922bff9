/**
 * A QR code drawn onto a <canvas> by the `qrcode` package in the page's own script (no
 * inline script, no outside image: the faces' Content-Security-Policy allows neither).
 * Black on white with a quiet zone, so a till's camera reads it in any theme; the canvas
 * is an image with a name for screen readers.
 */
import QRCode from 'qrcode';
import { useEffect, useRef, useState } from 'react';

export function QrCode({
  value,
  label,
  size = 240,
}: {
  /** What the code carries. */
  value: string;
  /** What a screen reader says for it. */
  label: string;
  /** The side in CSS pixels. */
  size?: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const target = canvas.current;
    if (!target) return;
    let live = true;
    QRCode.toCanvas(target, value, {
      errorCorrectionLevel: 'M',
      margin: 4,
      width: size,
      color: { dark: '#000000', light: '#ffffff' },
    }).then(
      () => {
        if (live) setFailed(false);
      },
      () => {
        if (live) setFailed(true);
      },
    );
    return () => {
      live = false;
    };
  }, [value, size]);
  return (
    <canvas
      ref={canvas}
      role="img"
      aria-label={label}
      data-qr={failed ? 'failed' : 'drawn'}
      width={size}
      height={size}
      style={{ inlineSize: size, blockSize: size, background: '#ffffff' }}
    />
  );
}

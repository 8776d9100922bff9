/**
 * A QR reader for a camera: the browser's own `BarcodeDetector` where it has one, else the
 * `barcode-detector` ponyfill (ZXing compiled to WebAssembly). The ponyfill would fetch its
 * .wasm from a CDN; here Vite copies it from node_modules into the build (`?url`) and
 * ZXing's `locateFile` points at that copy, so it loads from our own origin (the pages'
 * CSP allows nothing else). The ponyfill's code and wasm load only when a camera scan
 * first needs them.
 */

export interface QrDetector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}

interface NativeDetectorClass {
  new (options: { formats: string[] }): QrDetector;
  getSupportedFormats(): Promise<string[]>;
}

function nativeDetector(): NativeDetectorClass | null {
  const found = (globalThis as { BarcodeDetector?: NativeDetectorClass }).BarcodeDetector;
  return found ?? null;
}

export async function qrDetector(): Promise<QrDetector> {
  const native = nativeDetector();
  if (native && (await native.getSupportedFormats()).includes('qr_code')) {
    return new native({ formats: ['qr_code'] });
  }
  const [{ BarcodeDetector, prepareZXingModule }, { default: wasmUrl }] = await Promise.all([
    import('barcode-detector/ponyfill'),
    import('zxing-wasm/reader/zxing_reader.wasm?url'),
  ]);
  prepareZXingModule({
    overrides: {
      locateFile: (path: string, prefix: string) =>
        path.endsWith('.wasm') ? new URL(wasmUrl, document.baseURI).href : prefix + path,
    },
  });
  return new BarcodeDetector({ formats: ['qr_code'] });
}

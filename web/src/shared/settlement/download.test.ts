import { describe, expect, it } from 'vitest';

import { attachmentName, refusalCode } from './download';

describe('attachmentName', () => {
  it("takes the server's file name", () => {
    expect(attachmentName('attachment; filename="statement-7-ketab-sara.pdf"', 'x.pdf')).toBe(
      'statement-7-ketab-sara.pdf',
    );
  });
  it('falls back without a header or with a path in the name', () => {
    expect(attachmentName(null, 'statement-7.csv')).toBe('statement-7.csv');
    expect(attachmentName('attachment; filename="../../etc/passwd"', 'a.csv')).toBe('a.csv');
  });
});

describe('refusalCode', () => {
  it("reads the server's error code", async () => {
    const answer = new Response(JSON.stringify({ error: 'NOT_CONNECTED' }), { status: 503 });
    expect(await refusalCode(answer)).toBe('NOT_CONNECTED');
  });
  it('is UNKNOWN for a body that is not a refusal', async () => {
    expect(await refusalCode(new Response('<html>', { status: 500 }))).toBe('UNKNOWN');
  });
});

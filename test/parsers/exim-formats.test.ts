import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase62, eximIdLengthAt, isEximId, parseEximId, spoolHeaderPath } from '../../src/parsers/exim-id.js';
import {
  defaultMainlogFor,
  mainlogPathFromLogFilePath,
  parseConfigValues,
  parseEximVersion,
  parseQueueCount,
  parseQueueListing,
  queueSenders,
  sizeColumnToBytes,
} from '../../src/parsers/exim-bp.js';
import {
  findHeader,
  parseSpoolHeader,
  parseXPhpOriginatingScript,
  parseXPhpScript,
} from '../../src/parsers/exim-spool-header.js';
import { classifyMainlogLine, isAdminInvocation } from '../../src/parsers/exim-mainlog.js';
import { parseAccessLogLine, parseApacheTime } from '../../src/parsers/access-log.js';
import { looksRandomName, parseFindPrintf } from '../../src/parsers/find-printf.js';
import { isPublicIp } from '../../src/parsers/ip.js';
import { parseWindow, resolveSince } from '../../src/parsers/log-time.js';

const anyText = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }));

describe('exim message IDs', () => {
  it('accepts both formats and decodes the time', () => {
    expect(parseEximId('1truVi-00000004vSE-2WKF')).toEqual({ id: '1truVi-00000004vSE-2WKF', format: 'new', epochSeconds: Date.UTC(2025, 2, 11, 7, 58, 46) / 1000, spoolSubdir: 'i' });
    expect(parseEximId('1lxVOY-0066Pc-90')?.format).toBe('old');
    expect(parseEximId('1xV5FV-0001mv-2L')?.spoolSubdir).toBe('V');
    expect(spoolHeaderPath('1xV5FV-0001mv-2L', true)).toBe('V/1xV5FV-0001mv-2L-H');
    expect(spoolHeaderPath('1xV5FV-0001mv-2L', false)).toBe('1xV5FV-0001mv-2L-H');
    for (const bad of ['', '1xV5FV-0001mv-2', '1xV5FV_0001mv-2L', '1xV5FV-0001mv-2L ', '../../etc/passwd', '1truVi-00000004vSE-2WK', '1xV5FV-0001mv-2L\n']) expect(isEximId(bad)).toBe(false);
    expect(Number.isNaN(decodeBase62('a-b'))).toBe(true);
  });

  it('the byte check agrees with the regex on random input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}$/), fc.stringMatching(/^[0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4}$/), fc.string({ maxLength: 30 })), (id) => {
        const buf = Buffer.from(`${id} x`);
        const len = eximIdLengthAt(buf, 0, buf.length);
        const first = id.split(' ')[0]!;
        const expected = (first.length === 16 || first.length === 23) && isEximId(first) && Buffer.byteLength(first) === first.length ? first.length : 0;
        expect(len).toBe(expected);
      }),
    );
  });
});

const BP = [
  ' 0m   487 1xV5FE-0001it-00 <support@example.test> *** frozen ***',
  '          victim1@remote.test',
  '          victim2@remote.test',
  '',
  ' 3h  5.3K 1xV5FX-0001nG-2c <big@example.test>',
  '        D y@remote.test',
  '          y2@remote.test',
  '',
  '125d   30K 1truVi-00000004vSE-2WKF <bigger@example.test> (mailuser)',
  '          z@remote.test',
  '',
  ' 0m   294 1xV5FE-0001j2-02 <>',
  '          someone@remote.test',
  '',
  '      1xV5FE-0001zz-99',
  '    *** spool read error: No such file or directory ***',
  '',
].join('\n');

describe('exim -bp and friends', () => {
  it('parses every line shape of a queue listing', () => {
    const q = parseQueueListing(BP);
    expect(q.unparsed).toEqual([]);
    expect(q.messages.map((m) => [m.id, m.age, m.ageMinutes, m.size, m.sender, m.bounce, m.frozen, m.login])).toEqual([
      ['1xV5FE-0001it-00', '0m', 0, '487', 'support@example.test', false, true, null],
      ['1xV5FX-0001nG-2c', '3h', 180, '5.3K', 'big@example.test', false, false, null],
      ['1truVi-00000004vSE-2WKF', '125d', 180000, '30K', 'bigger@example.test', false, false, 'mailuser'],
      ['1xV5FE-0001j2-02', '0m', 0, '294', '', true, false, null],
      ['1xV5FE-0001zz-99', '', 0, '', '', false, false, null],
    ]);
    expect(q.messages[1]!.recipients).toEqual([{ address: 'y@remote.test', delivered: true, generated: false }, { address: 'y2@remote.test', delivered: false, generated: false }]);
    expect(q.messages[4]!.error).toBe('*** spool read error: No such file or directory ***');
    expect(queueSenders(q).map((s) => s.key)).toEqual(['<>', 'big@example.test', 'bigger@example.test', 'support@example.test']);
    expect(parseQueueListing('').messages).toEqual([]);
    expect(sizeColumnToBytes('5.3K')).toBe(5427);
    expect(sizeColumnToBytes('1.2M')).toBe(1258291);
  });

  it('reads exiqgrep long format (TAB indent)', () => {
    const q = parseQueueListing(' 0m   487 1xV5FE-0001it-00 <support@example.test> *** frozen ***\n\t  victim1@remote.test\n\t  victim2@remote.test\n\n');
    expect(q.messages[0]!.recipients.map((r) => r.address)).toEqual(['victim1@remote.test', 'victim2@remote.test']);
  });

  it('-bpc, -bP, -bV and log_file_path', () => {
    expect(parseQueueCount('3\n')).toEqual({ ok: true, count: 3 });
    expect(parseQueueCount('exim abandoned').ok).toBe(false);
    expect(parseConfigValues('spool_directory = /var/spool/exim4\nlog_file_path = /var/log/exim4/%slog\nno_split_spool_directory\n', ['spool_directory', 'log_file_path', 'split_spool_directory']))
      .toEqual({ spool_directory: '/var/spool/exim4', log_file_path: '/var/log/exim4/%slog', split_spool_directory: 'false' });
    expect(parseConfigValues('/var/spool/exim\n/var/log/exim_%slog\n', ['spool_directory', 'log_file_path'])).toEqual({ spool_directory: '/var/spool/exim', log_file_path: '/var/log/exim_%slog' });
    expect(mainlogPathFromLogFilePath('/var/log/exim_%slog')).toBe('/var/log/exim_mainlog');
    expect(mainlogPathFromLogFilePath('/var/log/exim4/%slog')).toBe('/var/log/exim4/mainlog');
    expect(mainlogPathFromLogFilePath(':syslog')).toBeNull();
    expect(mainlogPathFromLogFilePath('syslog:/var/log/x/%slog')).toBe('/var/log/x/mainlog');
    expect(mainlogPathFromLogFilePath('', '/var/spool/exim')).toBe('/var/log/exim_mainlog');
    expect(defaultMainlogFor('/var/spool/exim4')).toBe('/var/log/exim4/mainlog');
    expect(parseEximVersion('Exim version 4.96 #2 built 02-Feb-2024 09:55:39\nCopyright')).toBe('4.96');
  });

  it('never throws on random or mutated listings', () => {
    fc.assert(fc.property(anyText, (t) => {
      const q = parseQueueListing(t);
      expect(Array.isArray(q.messages)).toBe(true);
      parseConfigValues(t, ['a']);
      parseQueueCount(t);
    }));
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(BP.length), fc.string({ maxLength: 5 })), { maxLength: 5 }), (edits) => {
      let t = BP;
      for (const [at, ins] of edits) t = t.slice(0, at) + ins + t.slice(at + 1);
      for (const m of parseQueueListing(t).messages) expect(isEximId(m.id)).toBe(true);
    }));
  });
});

const MVH = [
  '1xV5FE-0001iz-01-H',
  'root 0 0',
  '<alice@example.test>',
  '1795344988 0',
  '-received_time_usec .008883',
  '--helo_name laptop',
  '--host_address [203.0.113.5]:52100',
  '-host_auth dovecot_plain',
  '--interface_address [192.0.2.10]:587',
  '-ident root',
  '-received_protocol esmtpa',
  '--auth_id alice@example.test',
  '-frozen 1795345000',
  'XX',
  '2',
  'a@remote.test',
  'b@remote2.test',
  '',
  '204P Received: from [203.0.113.5] (port=52100 helo=laptop ident=root)',
  '\tby host.example.test with esmtpa (Exim 4.96)',
  '\tid 1xV5FE-0001iz-01;',
  '025F From: alice@example.test',
  '025  Subject: Invoice overdue',
  '073  X-PHP-Script: example.test/wp-content/N138UVkOgLJ.php for',
  ' 10.9.9.9, 154.160.26.225',
  '040  X-PHP-Originating-Script: 1009:N138UVkOgLJ.php',
  '030* X-PHP-Script: evil.test/fake.php for 1.1.1.1',
  '',
].join('\n');

describe('spool header files and exim -Mvh', () => {
  it('reads the envelope, tainted auth_id, host address, frozen and headers', () => {
    const r = parseSpoolHeader(MVH);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const h = r.header;
    expect([h.id, h.login, h.uid, h.sender, h.receivedEpoch, h.authId, h.hostAddress, h.hostPort, h.ident, h.frozen]).toEqual(['1xV5FE-0001iz-01', 'root', 0, 'alice@example.test', 1795344988, 'alice@example.test', '203.0.113.5', 52100, 'root', true]);
    expect(h.vars['auth_id']!.tainted).toBe(true);
    expect(h.vars['host_auth']!.tainted).toBe(false);
    expect(h.recipients).toEqual(['a@remote.test', 'b@remote2.test']);
    expect(findHeader(h, 'subject')).toBe('Invoice overdue');
    expect(h.headers[0]!.value).toContain('by host.example.test');
    const x = parseXPhpScript(findHeader(h, 'X-PHP-Script')!);
    expect(x).toEqual({ host: 'example.test', path: '/wp-content/N138UVkOgLJ.php', addresses: ['10.9.9.9', '154.160.26.225'], clientIp: '154.160.26.225' });
    expect(parseXPhpOriginatingScript(findHeader(h, 'X-PHP-Originating-Script')!)).toEqual({ uid: 1009, script: 'N138UVkOgLJ.php' });
  });

  it('old-style host addresses, bounces and errors', () => {
    const r = parseSpoolHeader('1q4XN1-0006BK-1d-H\neduffect 1009 993\n<>\n1686000000 0\n-host_address 154.160.26.225.41122\n-local\nXX\n1\nx@y.test\n\n');
    expect(r.ok && [r.header.bounce, r.header.hostAddress, r.header.hostPort, r.header.local]).toEqual([true, '154.160.26.225', 41122, true]);
    expect(parseSpoolHeader('Failed to open input file for 1xV5FE-0001zz-99-H: No such file or directory\n')).toEqual({ ok: false, error: 'Failed to open input file for 1xV5FE-0001zz-99-H: No such file or directory' });
    expect(parseXPhpScript('demo.resellerhostpro.com/wp-admin/crbnqmcomu.php for\n 41.210.22.127')?.clientIp).toBe('41.210.22.127');
    expect(parseXPhpScript('no path here')).toBeNull();
  });

  it('never throws on random or mutated header files', () => {
    fc.assert(fc.property(anyText, (t) => {
      const r = parseSpoolHeader(t);
      expect(typeof r.ok).toBe('boolean');
      parseXPhpScript(t);
      parseXPhpOriginatingScript(t);
    }));
    fc.assert(fc.property(fc.nat(MVH.length), fc.string({ maxLength: 8 }), (at, ins) => {
      const r = parseSpoolHeader(MVH.slice(0, at) + ins + MVH.slice(at + 1));
      if (r.ok) expect(typeof r.header.sender).toBe('string');
    }));
  });
});

describe('main log lines', () => {
  it('classifies each line type with its fields', () => {
    const a = classifyMainlogLine('2026-11-22 10:56:28 1xV5FE-0001iz-01 <= alice@example.test H=mail.x.test (laptop) [203.0.113.5]:52100 I=[192.0.2.10]:587 U=root P=esmtpa A=dovecot_login:alice@example.test S=290 id=abc@x T="Say \\"hi\\" A=dovecot_plain:evil" for a@remote.test b@remote2.test');
    expect(a).toMatchObject({
      kind: 'arrival', time: '2026-11-22 10:56:28', id: '1xV5FE-0001iz-01', sender: 'alice@example.test', bounce: false,
      host: { name: 'mail.x.test', helo: 'laptop', ip: '203.0.113.5', port: 52100 }, interfaceIp: '192.0.2.10', user: 'root', protocol: 'esmtpa',
      auth: { authenticator: 'dovecot_login', id: 'alice@example.test' }, size: 290, subject: 'Say "hi" A=dovecot_plain:evil', recipients: ['a@remote.test', 'b@remote2.test'],
    });
    expect(classifyMainlogLine('2026-11-22 10:56:28 1xV5FE-0001j2-02 <= <> R=1xV5FE-0001it-00 U=mailnull P=local S=294')).toMatchObject({ kind: 'arrival', bounce: true, sender: '', host: null });
    expect(classifyMainlogLine('2013-02-27 14:06:18 cwd=/home/username/public_html/forums 3 args: /usr/sbin/sendmail -t -i')).toMatchObject({ kind: 'cwd', cwd: '/home/username/public_html/forums', argc: 3, admin: false });
    expect(classifyMainlogLine('2026-11-22 10:56:30 cwd=/root 2 args: /usr/sbin/exim -bpu')).toMatchObject({ kind: 'cwd', admin: true });
    expect(classifyMainlogLine('2002-10-31 09:00:10 16ZCW1-0005MB-00 => monk@holistic.fict.example R=dnslookup T=remote_smtp H=holistic.fict.example [192.168.234.234]')).toMatchObject({ kind: 'delivery', address: 'monk@holistic.fict.example' });
    expect(classifyMainlogLine('2002-07-11 07:14:17 17SXDU-000189-00 ** ace400@pb.example R=dnslookup T=remote_smtp: SMTP error')).toMatchObject({ kind: 'failure' });
    expect(classifyMainlogLine('2002-12-19 16:20:23 16aiQz-0002Q5-00 == marvin@endrest.example R=dnslookup T=smtp defer (146): Connection refused')).toMatchObject({ kind: 'deferral' });
    expect(classifyMainlogLine('2002-10-31 09:00:11 16ZCW1-0005MB-00 Completed')).toMatchObject({ kind: 'completed' });
    expect(classifyMainlogLine('2026-11-22 10:56:41 1xV5FE-0001j2-02 removed by root')).toMatchObject({ kind: 'removed', by: 'root' });
    expect(classifyMainlogLine('2026-11-22 10:56:41 1xV5FE-0001j2-02 Sender identification U=shop D=shop.test S=info@shop.test')).toMatchObject({ kind: 'cpanel', what: 'sender_identification', fields: { U: 'shop', D: 'shop.test', S: 'info@shop.test' } });
    expect(classifyMainlogLine('garbage')).toEqual({ kind: 'invalid', text: 'garbage' });
  });

  it('admin invocations are told from submissions', () => {
    for (const a of ['/usr/sbin/exim -bp', 'exim -bpc', 'exim -Mrm 1xV5FE-0001it-00', 'exim -bP spool_directory', 'exim -q', 'exim -qff', 'exim -Mvh x', '/usr/sbin/exim -bpu', 'exim -R example.test']) expect(isAdminInvocation(a)).toBe(true);
    for (const a of ['/usr/sbin/sendmail -t -i', 'exim -C /x -t -i -fsupport@example.test', 'sendmail -bs', 'sendmail -bm x@y', 'sendmail -oi -f x@y']) expect(isAdminInvocation(a)).toBe(false);
  });

  it('never throws on random lines', () => {
    fc.assert(fc.property(anyText, (t) => {
      expect(typeof classifyMainlogLine(`2026-11-22 10:56:28 ${t}`).kind).toBe('string');
      expect(typeof classifyMainlogLine(`2026-11-22 10:56:28 1xV5FE-0001iz-01 <= ${t}`).kind).toBe('string');
    }));
  });
});

describe('access logs, find output, addresses, windows', () => {
  it('parses Apache combined lines', () => {
    const e = parseAccessLogLine('81.95.52.96 - - [12/Oct/2012:11:25:58 +0100] "POST /wp-content/x.php?a=1 HTTP/1.1" 200 3623 "http://webarch.net/docs" "Mozilla/5.0 \\"x\\""');
    expect(e).toEqual({ ip: '81.95.52.96', time: '2012-10-12T10:25:58.000Z', method: 'POST', path: '/wp-content/x.php?a=1', protocol: 'HTTP/1.1', status: 200, userAgent: 'Mozilla/5.0 \\"x\\"' });
    expect(parseAccessLogLine('nonsense')).toBeNull();
    expect(parseApacheTime('99/Foo/2012:11:25:58 +0100')).toBeNull();
    fc.assert(fc.property(anyText, (t) => {
      parseAccessLogLine(t);
      parseFindPrintf(t);
    }));
  });

  it('reads NUL-separated find records, names with tabs and newlines included', () => {
    expect(parseFindPrintf('1700000000.5\t644\t120\t/home/u/a\tb\nc.php\0bad\0')).toEqual([{ path: '/home/u/a\tb\nc.php', mtime: 1700000000.5, mode: '644', size: 120 }]);
    expect(looksRandomName('N138UVkOgLJ.php')).toBe(true);
    expect(looksRandomName('pdyihizr.php')).toBe(false);
    expect(looksRandomName('wtudsxkfg.php')).toBe(true);
    expect(looksRandomName('index.php')).toBe(false);
    expect(looksRandomName('contact-form.php')).toBe(false);
  });

  it('public address check', () => {
    for (const ip of ['154.160.26.225', '203.0.113.45', '2001:db8::1', '8.8.8.8']) expect(isPublicIp(ip)).toBe(true);
    for (const ip of ['10.0.0.1', '127.0.0.1', '192.168.1.1', '172.16.5.4', '100.64.0.1', '169.254.1.1', '224.0.0.1', '::1', 'fe80::1', '::ffff:10.0.0.1', '1.2.3', '01.2.3.4', '1.2.3.4:80', 'x']) expect(isPublicIp(ip)).toBe(false);
  });

  it('since windows count back from the log end', () => {
    expect(parseWindow('1h30m')).toBe(5400);
    expect(parseWindow('yesterday')).toBeNull();
    expect(resolveSince('24h', '2026-11-22 10:00:00')).toEqual({ ok: true, from: '2026-11-21 10:00:00' });
    expect(resolveSince('2026-11-22 09:00', null)).toEqual({ ok: true, from: '2026-11-22 09:00:00' });
    expect(resolveSince('2026-11-22T09:00:00+01:00', null)).toEqual({ ok: true, from: '2026-11-22 08:00:00' });
    expect(resolveSince('soon', null).ok).toBe(false);
  });
});

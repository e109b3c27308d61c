import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { slackEscape, slackRequests } from '../../../src/audit/attach/adapters.js';
import { buildAttachContent } from '../../../src/audit/attach/content.js';
import { AttachTargetError, describeTarget, parseAttachTarget } from '../../../src/audit/attach/target.js';
import { REDACTED, redactDeep, scrubSecrets } from '../../../src/core/secret.js';
import { writeSpamIncidentLog } from '../../audit-report/sample-log.js';

const HOOK = 'https://hooks.slack.com/services/T000TEST/B000TEST/slackHookSecretPart123';

describe('slack targets', () => {
  it('parses slack:URL and holds the URL as a secret from then on', () => {
    const target = parseAttachTarget(`slack:${HOOK}`);
    expect(target.kind).toBe('slack');
    expect(target.kind === 'slack' && target.url.reveal()).toBe(HOOK);
    // Once parsed, the URL is scrubbed from any sink: an argv recorded in an audit header, a message.
    expect(scrubSecrets(`runbook apply x.yml --incident slack:${HOOK}`)).toBe(`runbook apply x.yml --incident slack:${REDACTED}`);
    expect(JSON.stringify(redactDeep({ target }))).not.toContain('slackHookSecretPart123');
    expect(describeTarget(target)).toBe('Slack webhook at hooks.slack.com');
  });

  it('refuses what is not an http(s) URL without repeating it', () => {
    for (const bad of ['slack:#ops', 'slack:not a url secretish', 'slack:ftp://hooks.example/x', 'slack:https://u:p@hooks.example/x']) {
      let message = '';
      try {
        parseAttachTarget(bad);
      } catch (error) {
        expect(error).toBeInstanceOf(AttachTargetError);
        message = (error as Error).message;
      }
      expect(message, bad).not.toBe('');
      expect(message).not.toContain(bad.slice('slack:'.length));
    }
  });

  it('a mistyped kind is named without the rest, which may be a hook URL', () => {
    expect(() => parseAttachTarget(`slak:${HOOK}`)).toThrow(/^unknown attach target kind "slak"; use /);
    expect(() => parseAttachTarget(`slak:${HOOK}`)).not.toThrow(/slackHookSecretPart123/);
  });
});

describe('slack request', () => {
  const logPath = writeSpamIncidentLog();
  const logText = readFileSync(logPath, 'utf8');
  const target = parseAttachTarget(`slack:${HOOK}`) as Extract<ReturnType<typeof parseAttachTarget>, { kind: 'slack' }>;

  it('is one JSON POST of {text, blocks} to the hook URL, no credential header', () => {
    const content = buildAttachContent(logPath, logText);
    const [title, ...rest] = content.brief.split('\n');
    const requests = slackRequests(target, content);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.url).toBe(HOOK);
    expect(request?.headers).toEqual({ 'Content-Type': 'application/json', 'User-Agent': 'runbook' });
    expect(request?.description).toBe('Slack webhook at hooks.slack.com');
    expect(JSON.parse(request!.body as string)).toEqual({
      text: slackEscape(title!),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: title } },
        { type: 'section', text: { type: 'mrkdwn', text: rest.map(slackEscape).join('\n') } },
      ],
    });
  });

  it('adds what waits for a human and the exact command, in a code block', () => {
    const command = "runbook apply /srv/watch-finish.yml --host mail1 -e sender=info@bob-shop.example -e 'x=a b' --approve abc123";
    const content = buildAttachContent(logPath, logText, { what: '2 steps not reversible: reset, purge', command });
    const body = JSON.parse(slackRequests(target, content)[0]!.body as string) as { blocks: { text: { text: string } }[] };
    expect(body.blocks).toHaveLength(3);
    expect(body.blocks[2]?.text.text).toBe(`*Waiting for a human:* 2 steps not reversible: reset, purge\nTo finish, review and run:\n\`\`\`${command}\`\`\``);
    // The pending lines are not repeated in the details section.
    expect(body.blocks[1]?.text.text).not.toContain('To finish');
  });

  it('escapes what a spammer wrote: no mention, no link, no early end of the code block', () => {
    expect(slackEscape('<!channel> <https://evil.example|click> & co')).toBe('&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co');
    const content = buildAttachContent(logPath, logText, { what: '<!here> reset', command: "runbook apply x.yml -e 'sender=a```<!channel>@b' --approve h" });
    const text = (JSON.parse(slackRequests(target, content)[0]!.body as string) as { blocks: { text: { text: string } }[] }).blocks[2]!.text.text;
    expect(text).not.toContain('<!');
    expect(text.match(/```/g)).toHaveLength(2);
  });
});

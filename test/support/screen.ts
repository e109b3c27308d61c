/**
 * What an operator's terminal shows after `raw` was written to it: the few control sequences a
 * redrawing progress display uses (cursor up/down/column, erase line/below), colours and modes
 * dropped. Returns every line, scrollback included, with trailing blanks trimmed.
 */
export function renderScreen(raw: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const line = lines[row] ?? '';
    lines[row] = line.length < col ? line.padEnd(col) + ch : line.slice(0, col) + ch + line.slice(col + 1);
    col += 1;
  };
  for (let i = 0; i < raw.length; i += 1) {
    const ch = raw[i]!;
    if (ch === '\u001b') {
      const csi = /^\u001b\[([?0-9;]*)([A-Za-z])/.exec(raw.slice(i, i + 32));
      if (!csi) {
        i += 1;
        continue;
      }
      i += csi[0].length - 1;
      const n = Number.parseInt(csi[1] || '1', 10) || 1;
      switch (csi[2]) {
        case 'A':
          row = Math.max(0, row - n);
          break;
        case 'B':
          row += n;
          while (lines.length <= row) lines.push('');
          break;
        case 'G':
          col = n - 1;
          break;
        case 'K':
          if (csi[1] === '2') lines[row] = '';
          else if (csi[1] === '' || csi[1] === '0') lines[row] = (lines[row] ?? '').slice(0, col);
          break;
        case 'J':
          lines[row] = (lines[row] ?? '').slice(0, col);
          lines.length = row + 1;
          break;
        default:
          break;
      }
    } else if (ch === '\r') {
      col = 0;
    } else if (ch === '\n') {
      row += 1;
      col = 0;
      while (lines.length <= row) lines.push('');
    } else if (ch >= ' ') {
      put(ch);
    }
  }
  return lines.map((l) => l.trimEnd());
}

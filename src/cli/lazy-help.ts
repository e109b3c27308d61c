import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A module the help text of a command needs, loaded the moment that help is printed. Commander
 * asks for help text synchronously, and declaring every command at start-up must not load what
 * only their help shows (the action registry is a third of a second), so this uses require of
 * an ES module (Node 22.12 and later). `specifier` is relative to this file.
 */
export function loadForHelp<T>(specifier: string): T {
  return require(specifier) as T;
}

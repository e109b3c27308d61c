import { Help, type Command, type Option } from 'commander';

const standard = new Help();

/**
 * Option help as an operator reads it: a repeatable flag starts empty, so `(default: [])` says
 * nothing and is left out; a number given as a string default (`--forks 10`) prints as a number.
 */
export function tidyOptionHelp(command: Command): void {
  for (const option of command.options) {
    if (typeof option.defaultValue === 'string' && /^\d+$/.test(option.defaultValue)) option.defaultValueDescription = option.defaultValue;
  }
  command.configureHelp({
    optionDescription: (option: Option) => {
      const emptyList = Array.isArray(option.defaultValue) && option.defaultValue.length === 0;
      return standard.optionDescription(emptyList ? Object.assign(Object.create(option) as Option, { defaultValue: undefined }) : option);
    },
  });
}

// Generated from src/parsers/count-registry.ts by scripts/gen-counters.mjs (run by `npm run build`): do not edit.
// The kernel's numbering of its key tables (T_*), relations (P_*) and totals (TOT_*).

export const T_CWD: i32 = 0;
export const T_SENDERS: i32 = 1;
export const T_AUTH: i32 = 2;
export const T_SUBJECTS: i32 = 3;
export const T_USERS: i32 = 4;
export const T_IPS: i32 = 5;
export const T_NAMES: i32 = 6;
export const T_SENDER_RCPTS: i32 = 7;
export const T_SENDER_DEFERRALS: i32 = 8;
export const T_SENDER_FAILURES: i32 = 9;
export const T_AUTH_RCPTS: i32 = 10;
export const T_AUTH_DEFERRALS: i32 = 11;
export const T_AUTH_FAILURES: i32 = 12;
export const T_CWD_RCPTS: i32 = 13;
export const T_CWD_DEFERRALS: i32 = 14;
export const T_CWD_FAILURES: i32 = 15;
export const T_CWD_FIRST: i32 = 16;
export const TABLE_COUNT: i32 = 17;
/** Keys kept at most per table (0: the scan's maxKeys). */
@inline export function tableMaxKeys(i: i32): u32 {
  if (i == 6) return 1000;
  return 0;
}
export const P_CWD_SENDERS: i32 = 0;
export const P_SENDER_IPS: i32 = 1;
export const P_AUTH_IPS: i32 = 2;
export const P_AUTH_NAMES: i32 = 3;
export const P_SUBJECT_SENDERS: i32 = 4;
export const P_USER_SENDERS: i32 = 5;
export const P_SELF_IPS: i32 = 6;
export const RELATION_COUNT: i32 = 7;
export const TOT_ARRIVALS: i32 = 0;
export const TOT_INCOMING: i32 = 1;
export const TOT_BOUNCES: i32 = 2;
export const TOT_LOCAL: i32 = 3;
export const TOT_AUTH: i32 = 4;
export const TOT_CWD: i32 = 5;
export const TOT_ADMIN: i32 = 6;
export const TOT_DROPPED: i32 = 7;
export const TOT_AUTH_WITHOUT_ID: i32 = 8;
export const TOT_OUTSIDE: i32 = 9;
export const TOT_DEFERRALS: i32 = 10;
export const TOT_FAILURES: i32 = 11;
export const TOT_UNJOINED: i32 = 12;
export const TOT_FORGOTTEN: i32 = 13;
export const TOTAL_COUNT: i32 = 14;

// Which library groups each driver capability brings: video implies compute, display graphics.

/** capability -> library groups (the group names of src/discover/tables.ts). */
export const LIBRARY_GROUPS_OF: string[][] = [
  ["utility", "utility"],
  ["compute", "compute"],
  ["video", "compute", "video"],
  ["graphics", "graphics"],
  ["display", "graphics"],
  ["ngx", "ngx"],
];

/** True when one of caps brings the library group. */
export function wantsGroup(caps: string[], group: string): bool {
  for (let i = 0; i < LIBRARY_GROUPS_OF.length; i++) {
    const row = LIBRARY_GROUPS_OF[i];
    if (!caps.includes(row[0])) continue;
    for (let j = 1; j < row.length; j++) if (row[j] == group) return true;
  }
  return false;
}

// The one place the version lives at run time (kept in step with package.json by a test).
export const KDIAG_VERSION = '0.1.0';

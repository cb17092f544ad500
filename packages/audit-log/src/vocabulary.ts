/** Severity of an audit record, as the OWASP Logging Vocabulary writes it. */
export type AuditLevel = 'INFO' | 'WARN' | 'CRITICAL';

/**
 * The OWASP Application Logging Vocabulary's event types with their levels (cheat sheet, as of 2026). Each is
 * written `type[:arg1,arg2]`, e.g. `authn_login_fail:joebob1`. A record may use any other name too.
 */
export const owaspEvents = Object.freeze({
  // Authentication
  authn_login_success: 'INFO',
  authn_login_successafterfail: 'INFO',
  authn_login_fail: 'WARN',
  authn_login_fail_max: 'WARN',
  authn_login_lock: 'WARN',
  authn_password_change: 'INFO',
  authn_password_change_fail: 'CRITICAL',
  authn_impossible_travel: 'CRITICAL',
  authn_token_created: 'INFO',
  authn_token_revoked: 'INFO',
  authn_token_reuse: 'CRITICAL',
  authn_token_delete: 'WARN',
  // Authorization
  authz_fail: 'CRITICAL',
  authz_change: 'WARN',
  authz_admin: 'WARN',
  // Encryption
  crypt_decrypt_fail: 'WARN',
  crypt_encrypt_fail: 'WARN',
  // Excessive use
  excess_rate_limit_exceeded: 'WARN',
  // File upload
  upload_complete: 'INFO',
  upload_stored: 'INFO',
  upload_validation: 'INFO',
  upload_delete: 'INFO',
  // Input validation
  input_validation_fail: 'WARN',
  input_validation_discrete_fail: 'WARN',
  // Malicious behaviour
  malicious_excess_404: 'WARN',
  malicious_extraneous: 'CRITICAL',
  malicious_attack_tool: 'CRITICAL',
  malicious_cors: 'CRITICAL',
  malicious_direct_reference: 'CRITICAL',
  // Privilege changes
  privilege_permissions_changed: 'WARN',
  // Sensitive data
  sensitive_create: 'WARN',
  sensitive_read: 'WARN',
  sensitive_update: 'WARN',
  sensitive_delete: 'WARN',
  // Sequence errors
  sequence_fail: 'CRITICAL',
  // Sessions
  session_created: 'INFO',
  session_renewed: 'INFO',
  session_expired: 'INFO',
  session_use_after_expire: 'CRITICAL',
  // System
  sys_startup: 'WARN',
  sys_shutdown: 'WARN',
  sys_restart: 'WARN',
  sys_crash: 'WARN',
  sys_monitor_disabled: 'WARN',
  sys_monitor_enabled: 'WARN',
  // User management
  user_created: 'WARN',
  user_updated: 'WARN',
  user_archived: 'WARN',
  user_deleted: 'WARN',
} as const satisfies Record<string, AuditLevel>);

/**
 * Events Bulwark itself writes: about the log (a record that failed validation, kept with the problem; a line a
 * crash cut from the end of a file; records dropped past a sink's bound), and the refusals of Bulwark guards that
 * the vocabulary has no name for (503 shed or circuit open, 410 after a version's sunset).
 */
export const auditEvents = Object.freeze({
  audit_invalid: 'WARN',
  audit_recovered: 'WARN',
  audit_dropped: 'CRITICAL',
  bulwark_shed: 'WARN',
  bulwark_gone: 'INFO',
} as const satisfies Record<string, AuditLevel>);

/** An OWASP Logging Vocabulary event type. */
export type OwaspEvent = keyof typeof owaspEvents;

/** An event type: one of the vocabulary's, or the application's own (lower-case words joined by `_`). */
export type AuditEventType = OwaspEvent | keyof typeof auditEvents | (string & {});

/** The default level of an event type: the vocabulary's, else INFO. */
export function defaultLevel(event: string): AuditLevel {
  if (Object.hasOwn(owaspEvents, event)) return owaspEvents[event as OwaspEvent];
  if (Object.hasOwn(auditEvents, event)) return auditEvents[event as keyof typeof auditEvents];
  return 'INFO';
}

/** Proxy stages: the prompt scanner and the audit log wired into the pipeline. */
export { AuditStage, type AuditStageOptions } from '../audit/audit-stage'
export { SCANNER_ANNOTATION, type ScannerAnnotation, scannerAnnotationOf } from '../proxy/scan-annotation'
export { SCAN_HEADER, ScannerStage } from '../scanner/scanner-stage'

package device

import "fmt"

// Failure codes in the reason strings a FAILED report carries, modelled on
// the FreeRTOS OTA library's OtaErr_t values and its PAL status codes (main
// status in the top byte), reported as "rejected: 0x%08x".
const (
	CodeRequestBlockFailed  = 0x00000008 // the stream refused a block request
	CodeJobParserError      = 0x0000000c // the job document cannot be used
	CodeInvalidDataProtocol = 0x0000000d // no protocol the agent can use
	CodeMomentumAbort       = 0x0000000e // blocks stopped coming: gave up
	CodeSelfTestFailed      = 0x00000011 // the new image failed its self-test
	CodeSignatureCheck      = 0xe3000000 // OtaPalSignatureCheckFailed
	CodeRxFileTooLarge      = 0xe5000000 // the download does not match filesize
	CodeBadSignerCert       = 0xe7000000 // OtaPalBadSignerCert
	CodeDownloadFailed      = 0xee000000 // the HTTP download failed
)

// rejectedReason is the statusDetails reason of a FAILED report.
func rejectedReason(code uint32) string { return fmt.Sprintf("rejected: 0x%08x", code) }

// Version is an application firmware version (major.minor.build).
type Version struct{ Major, Minor, Build uint32 }

func (v Version) String() string { return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Build) }

// hex is the FreeRTOS updatedBy form: the version as one unsigned 32-bit
// number (major, minor, build in bytes 3, 2 and 1-0), printed "0x%x".
func (v Version) hex() string {
	return fmt.Sprintf("0x%x", v.Major<<24|(v.Minor&0xff)<<16|v.Build&0xffff)
}

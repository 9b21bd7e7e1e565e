package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// errorKind says what to do after a failed send.
type errorKind uint8

const (
	retryable   errorKind = iota // certainly not delivered (connection refused, 503): back off and retry
	rateLimited                  // 429: wait as told, not a failure
	permanent                    // retrying cannot help
	// uncertain: the request may have been carried out (a timeout, a
	// connection lost after the request was written, a 500, 502 or 504):
	// look before sending again, or leave it to a person.
	uncertain
)

// retryableSlackErrors are Slack API errors worth trying again.
var retryableSlackErrors = map[string]bool{"internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true}

// uncertainSlackErrors are those after which, Slack says, "some aspect of
// the operation" may have succeeded.
var uncertainSlackErrors = map[string]bool{"internal_error": true, "fatal_error": true}

// lookupHints explain the Slack errors of looking for an earlier attempt.
var lookupHints = map[string]string{
	"missing_scope": "the bot token lacks channels:history (groups:history for a private channel), " +
		"or channels:read and groups:read to find a channel given by name",
	"not_in_channel":    "the bot is not in the channel",
	"channel_not_found": "the channel does not exist or the bot cannot see it",
	"invalid_auth":      "the bot token is not valid",
	"token_revoked":     "the bot token was revoked",
}

// slackHints explain the Slack errors people can fix.
var slackHints = map[string]string{
	"channel_not_found": "the channel does not exist or the bot cannot see it",
	"not_in_channel":    "invite the bot to the channel",
	"is_archived":       "the channel is archived",
	"invalid_auth":      "the bot token is not valid",
	"not_authed":        "no bot token was sent",
	"token_revoked":     "the bot token was revoked",
	"account_inactive":  "the bot token belongs to a deactivated account",
	"missing_scope":     "the bot token lacks the chat:write scope",
	"msg_too_long":      "the message is too long",
	"msg_blocks_too_long": "the message's blocks hold more text than Slack takes in one message; " +
		"this irtui splits long notices, so the stored message is from an older version: retry it after re-rendering",
	"invalid_blocks": "Slack refused the message layout",
}

// classify says what a failed send via via means. Only requests to Slack
// (via slack or webhook) and mail can be uncertain: a file or console
// write that failed did not happen.
func (w *Worker) classify(via string, err error) (errorKind, time.Duration, string) {
	msg := err.Error()
	var pe permanentError
	if via == ViaMail {
		if errors.As(err, &pe) {
			return permanent, 0, msg
		}
		kind, msg := classifyMail(err)
		return kind, 0, msg
	}
	remote := via == ViaSlack || via == ViaWebhook
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &rl):
		return rateLimited, max(rl.RetryAfter, w.Spacing), msg
	case errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests:
		return rateLimited, 30 * time.Second, msg
	case errors.As(err, &sc) && sc.Code >= 500:
		// 501 and 503 refuse a request without carrying it out; a 500,
		// or a gateway's 502 or 504, may come after the post was made.
		if remote && sc.Code != http.StatusNotImplemented && sc.Code != http.StatusServiceUnavailable {
			return uncertain, 0, msg
		}
		return retryable, 0, msg
	case errors.As(err, &sc):
		return permanent, 0, msg
	case errors.As(err, &se) && se.Err == "ratelimited":
		return rateLimited, 30 * time.Second, msg
	case errors.As(err, &se) && remote && uncertainSlackErrors[se.Err]:
		return uncertain, 0, "Slack: " + se.Err
	case errors.As(err, &se) && retryableSlackErrors[se.Err]:
		return retryable, 0, "Slack: " + se.Err
	case errors.As(err, &se):
		if h, ok := slackHints[se.Err]; ok {
			return permanent, 0, "Slack: " + se.Err + " (" + h + ")"
		}
		return permanent, 0, "Slack: " + se.Err
	case errors.As(err, &pe):
		return permanent, 0, msg
	case !remote || notSent(err):
		return retryable, 0, msg
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "Client.Timeout"):
		return uncertain, 0, "no answer within " + w.SendTimeout.String() + ": " + msg
	default:
		// A connection reset or closed after the request was written, an
		// answer cut short: Slack may have posted the message.
		return uncertain, 0, msg
	}
}

// notSent reports whether a request certainly did not reach the server:
// the connection was never made (refused, unreachable, DNS, a proxy), or
// TLS failed before the request was written.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var (
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
	)
	return errors.As(err, &dns) || errors.As(err, &cert) || errors.As(err, &ua) || errors.As(err, &host) ||
		errors.As(err, &inv) || strings.Contains(err.Error(), "TLS handshake timeout")
}

// lookupError describes a failure to look for an earlier attempt.
func lookupError(err error, msg string) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		msg = "Slack: " + se.Err
		if h, ok := lookupHints[se.Err]; ok {
			msg += " (" + h + ")"
		}
	}
	return "could not look in Slack for an earlier attempt: " + msg
}

// backoff is the wait after the nth failure: exponential, capped, with
// "equal jitter" (half fixed, half random) so workers do not retry in step.
func (w *Worker) backoff(failures int) time.Duration {
	d := w.BackoffMax
	if failures < 30 {
		if b := w.BackoffBase << (failures - 1); b > 0 && b < d {
			d = b
		}
	}
	half := d / 2
	w.rngMu.Lock()
	j := time.Duration(w.rng.Int64N(int64(half) + 1))
	w.rngMu.Unlock()
	return half + j
}

package main

import (
	"errors"
	"fmt"
	"net/http"
)

// code is the machine-readable kind of an error. It is what clients see in
// error events and JSON error bodies; the tables below map it to HTTP status
// codes in one place.
type code string

const (
	codeInvalid      code = "invalid"
	codeTooLong      code = "too_long"
	codeRateLimited  code = "rate_limited"
	codeNameTaken    code = "name_taken"
	codeUnauthorized code = "unauthorized"
	codeForbidden    code = "forbidden"
	codeNotFound     code = "not_found"
	codeUnavailable  code = "unavailable"
	codeTooLarge     code = "too_large"    // an upload over its size limit
	codeUnsupported  code = "unsupported"  // an upload of a kind the server does not take
	codeStorageFull  code = "storage_full" // the store's room for uploads is used up
	// codeUpgrade answers a plain GET of /ws that passed every check a
	// socket would meet: the web client probes that way (see serveWS).
	codeUpgrade code = "upgrade_required"
)

var httpStatus = map[code]int{
	codeInvalid:      http.StatusBadRequest,
	codeTooLong:      http.StatusBadRequest,
	codeRateLimited:  http.StatusTooManyRequests,
	codeNameTaken:    http.StatusConflict,
	codeUnauthorized: http.StatusUnauthorized,
	codeForbidden:    http.StatusForbidden,
	codeNotFound:     http.StatusNotFound,
	codeUnavailable:  http.StatusServiceUnavailable,
	codeTooLarge:     http.StatusRequestEntityTooLarge,
	codeUnsupported:  http.StatusUnsupportedMediaType,
	codeStorageFull:  http.StatusInsufficientStorage,
	codeUpgrade:      http.StatusUpgradeRequired,
}

// WebSocket close codes we send. 4001 is ours: the session ended (logout or
// name taken over), so the client must not reconnect but log in again.
const (
	closeGoingAway      = 1001
	closeUnsupported    = 1003
	closeInternal       = 1011
	closeServiceRestart = 1012
	closeTryAgainLater  = 1013
	closeSessionEnded   = 4001
)

// Error is an error with a code and a message meant for the user.
type Error struct {
	Code code
	Msg  string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Msg }

func errorf(c code, format string, args ...any) *Error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}

// errorCode returns the code of err, or "unavailable" for errors that did not
// come with one (store failures and the like).
func errorCode(err error) code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return codeUnavailable
}

func statusOf(err error) int {
	if s, ok := httpStatus[errorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// userMessage is the text to show for err; internal errors are not leaked.
func userMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return "The server cannot do that right now; try again shortly."
}

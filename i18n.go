package main

import (
	"net/http"
	"strings"
)

// The server renders the login page in the browser's language (English or
// Simplified Chinese); the chat page's script carries its own dictionary.
// Strings are keyed by their English text, so English needs no table and a
// missing translation falls back to English rather than to a key.
var zh = map[string]string{
	"Chat": "聊天室",
	"Pick a nickname and start talking. No account, no password.": "取个昵称就能聊天。无需注册，无需密码。",
	"Nickname":   "昵称",
	"Room":       "房间",
	"Enter":      "进入",
	"(optional)": "（可选）",
	"Letters, digits, - and _. Everyone who enters the same room talks together.": "字母、数字、- 和 _。进入同一房间的人在一起聊天。",
	"1–24 letters or digits of any language; spaces, _ - . allowed.":              "1–24 个任意语言的字母或数字；可用空格、_、-、.。",
	"Enter a nickname.": "请输入昵称。",
	"Use only letters, digits, spaces, '_', '-' and '.'.":                               "只能使用字母、数字、空格、“_”、“-”和“.”。",
	"A nickname has 1 to 24 characters.":                                                "昵称长度为 1 到 24 个字符。",
	"That nickname is in use right now. Pick another, or wait until its holder leaves.": "这个昵称正在使用中。请换一个，或等对方离开后再试。",
	"The server is restarting; try again in a moment.":                                  "服务器正在重启，请稍后再试。",
	"The server cannot do that right now; try again shortly.":                           "服务器暂时无法完成操作，请稍后再试。",
	"Too many logins from your network; wait a moment and try again.":                   "你所在网络的登录过于频繁，请稍等片刻再试。",
	"Too many people are logged in right now; try again in a few minutes.":              "当前登录的人太多，请几分钟后再试。",
	"A room name has 1 to 32 letters, digits, '-' or '_'.":                              "房间名为 1 到 32 个字母、数字、“-”或“_”。",
	"No such room":                           "没有这个房间",
	"This link is not to a room:":            "这个链接指向的不是房间：",
	"Go to #lobby":                           "前往 #lobby",
	"Page not found":                         "页面不存在",
	"There is no page at this address:":      "这个地址没有页面：",
	"Loading…":                               "加载中…",
	"Your session has ended. Log in again.":  "你的会话已结束，请重新登录。",
	"The form could not be read; try again.": "无法读取表单，请重试。",
	"That is far too long for a nickname, which has 1 to 24 characters.": "这作为昵称太长了，昵称为 1 到 24 个字符。",
}

// translate returns s in lang, for templates: {{t .Lang "Nickname"}}.
func translate(lang, s string) string {
	if lang == "zh" {
		if t, ok := zh[s]; ok {
			return t
		}
	}
	return s
}

// pageLang picks "zh" when the browser prefers Chinese over English,
// "en" otherwise. Quality values are honoured only by order, which is how
// browsers send them.
func pageLang(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

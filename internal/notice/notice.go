// Package notice holds the risk notice (风险告知书) an enterprise reads before it authorizes an
// institution (R15). Grants name the version they acknowledged.
package notice

// Notice is one version of the risk notice.
type Notice struct {
	Version string
	Text    string
}

// Current is the notice in force.
func Current() Notice {
	return Notice{Version: "2026-11", Text: text}
}

const text = `风险告知书 / Risk notice

一、授权后，被授权机构可在授权范围、授权期限和授权用途内查询或核验贵企业的非公开信用信息（如纳税、社保、公积金、水电气等信息）。
1. Once you authorize it, the institution may query or verify your non-public credit information (tax, social insurance, housing fund, utilities and similar) only within the items, period and purposes you choose.

二、被授权机构只能将所获信息用于为贵企业提供融资服务，不得用于其他目的，不得泄露、出售。
2. The institution may use what it obtains only to provide financing to you; any other use, leak or sale is prohibited and prosecuted.

三、每一次使用都会被记录，贵企业可随时免费查看谁在何时、为何目的使用了哪些信息。
3. Every use is recorded; you may see at any time, free of charge, who used which information, when and why.

四、贵企业可随时撤销授权，撤销即时生效；授权期限最长不超过12个月。
4. You may revoke an authorization at any time, with immediate effect; an authorization lasts at most 12 months.

五、对信息有异议的，可提出异议申请；符合条件的，可申请信用修复。
5. You may object to information you believe wrong, and apply for credit repair where the rules allow.
`

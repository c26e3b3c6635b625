package model

import "creditd/internal/uscc"

// Enterprise is bound to the GraphQL Enterprise type; its sections are resolved on demand.
type Enterprise struct {
	Uscc         uscc.Code `json:"uscc"`
	Name         string    `json:"name"`
	RegionCode   *string   `json:"regionCode,omitempty"`
	IndustryCode *string   `json:"industryCode,omitempty"`
	Size         *string   `json:"size,omitempty"`
	SubjectType  *string   `json:"subjectType,omitempty"`
	// Purpose is the purpose the enterprise was looked up with; its sections inherit it.
	Purpose *Purpose `json:"-"`
}

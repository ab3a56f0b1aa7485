package petition

import "pakn/internal/deadline"

// Stored is a petition as the store keeps it: with its sealed parts.
type Stored struct {
	Petition
	PetitionerEnc string // Vault ciphertext of the petitioner's personal data
	LookupHash    []byte
	SearchTokens  []int64 // the blind index of its title and body (SearchTokens), written with it
}

// AttachmentInfo describes a stored attachment.
type AttachmentInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
}

// Filter selects petitions for a list.
type Filter struct {
	Agency    string
	States    []State
	Category  Category
	DueBefore *deadline.Date // next update due on or before
	DueFrom   *deadline.Date // next update due on or after
	Overdue   *deadline.Date // due before this date (today) and not finished
	Open      bool           // only petitions whose deadline runs (not rejected or closed)
	Query     string         // words, any diacritics: internal/sealed turns them into QueryTokens
	// QueryTokens are the blind index of Query's words (SearchTokens):
	// the petitions holding all of them match.
	QueryTokens []int64
	Handler     string // only those this account handles
	// ReceivedFrom and ReceivedTo bound the day of receipt (both included).
	ReceivedFrom, ReceivedTo *deadline.Date
	Limit                    int
	Offset                   int
	// CountCap, when above zero, bounds the count of matches: beyond it the
	// total is CountCap+1, meaning "more than CountCap" (an exact count of a
	// large agency's petitions costs a scan of them all).
	CountCap int
}

// QueueCounts is how many open petitions of an agency are overdue, due
// soon and open in all, each counted up to a cap.
type QueueCounts struct {
	Overdue, DueSoon, Open int
}

// DueCount is how many open petitions of an agency are overdue or due soon.
type DueCount struct {
	Agency  string
	Overdue int
	DueSoon int
}

// IdempotencyRecord is what a key remembers.
type IdempotencyRecord struct {
	RequestHash []byte
	PetitionID  string
	ResponseEnc string
}

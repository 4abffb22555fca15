package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kefu-hotline/kefu/flows/records"
)

// ComplaintGetter finds one complaint by id (flows/store.SQLite,
// records.Memory).
type ComplaintGetter interface {
	Complaint(ctx context.Context, id int64) (records.Complaint, error)
}

// MountRecordings serves GET /api/complaints/{id}/recording: the
// complaint's recording from the data directory dataDir, as audio/wav
// (ranges and HEAD served; while the caller is still being recorded, the
// part written so far, which is a playable WAV too). A complaint without
// a recording, or whose file is gone (the retention period purged it),
// answers 404. Each fetch is logged with the complaint's id and who
// asked; recordings are personal data (CS-PRIVACY). log may be nil.
func MountRecordings(mux *http.ServeMux, g ComplaintGetter, dataDir string, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux.HandleFunc("GET /api/complaints/{id}/recording", func(w http.ResponseWriter, r *http.Request) {
		if failed(w, r, noQuery(r)) {
			return
		}
		raw := r.PathValue("id")
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			fail(w, r, http.StatusNotFound, "no complaint "+strconv.Quote(raw))
			return
		}
		c, err := g.Complaint(r.Context(), id)
		switch {
		case errors.Is(err, records.ErrNotFound):
			fail(w, r, http.StatusNotFound, fmt.Sprintf("no complaint %d", id))
			return
		case err != nil:
			log.Error("recordings api", "complaint", id, "error", err)
			fail(w, r, http.StatusInternalServerError, err.Error())
			return
		case c.Recording == "":
			fail(w, r, http.StatusNotFound, fmt.Sprintf("complaint %d has no recording", id))
			return
		}
		f, info, err := openRecording(dataDir, c)
		if errors.Is(err, fs.ErrNotExist) {
			fail(w, r, http.StatusNotFound, fmt.Sprintf("the recording of complaint %d is gone (%s): purged after the retention period, or lost", id, c.Recording))
			return
		}
		if err != nil {
			log.Error("recordings api", "complaint", id, "error", err)
			fail(w, r, http.StatusInternalServerError, fmt.Sprintf("the recording of complaint %d cannot be read", id))
			return
		}
		defer f.Close()
		log.Info("recording fetched", "complaint", id, "state", string(c.State), "remote", r.RemoteAddr)
		w.Header().Set("Content-Type", "audio/wav")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(c.Recording)}))
		http.ServeContent(w, r, "", info.ModTime(), f)
	})
}

// openRecording opens c's recording inside dataDir (never outside it,
// whatever the row says): the part file while it is being recorded, else
// the file, else a part file kefu's stopping left. A recording under
// recordings/ is opened inside that folder, which may be a link to a
// folder the nodes share (issue 17).
func openRecording(dataDir string, c records.Complaint) (*os.File, fs.FileInfo, error) {
	dir, rel := dataDir, c.Recording
	if r, ok := strings.CutPrefix(rel, records.RecordingsDir+"/"); ok {
		dir, rel = filepath.Join(dataDir, records.RecordingsDir), r
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	names := []string{rel, rel + records.PartSuffix}
	if c.State == records.Recording {
		names[0], names[1] = names[1], names[0]
	}
	for _, name := range names {
		f, err := root.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		info, err := f.Stat()
		if err == nil && !info.Mode().IsRegular() {
			err = fmt.Errorf("%s is not a file", name)
		}
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return f, info, nil
	}
	return nil, nil, fs.ErrNotExist
}

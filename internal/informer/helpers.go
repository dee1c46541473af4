package informer

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

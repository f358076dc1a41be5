class Note:
    def __init__(self, text, tags=[]):
        self.text = text
        self.tags = tags

    def tag(self, name):
        self.tags.append(name)


def tagged(notes, tag):
    return [note for note in notes if tag in note.tags]

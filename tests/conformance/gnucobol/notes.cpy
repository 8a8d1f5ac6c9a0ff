      *> A record whose table (OCCURS DEPENDING ON) is followed by more
      *> fields: written with -fodoslide, they follow the occurrences
      *> the count gives, so each record is as long as its count makes
      *> it. notes.cob COPYs it.
       01  NOTE-REC.
           05  NOTE-ID        PIC 9(4).
           05  TAG-COUNT      PIC 9.
           05  TAG            PIC X(6) OCCURS 0 TO 4 TIMES
                              DEPENDING ON TAG-COUNT.
           05  SCORE          PIC S9(3)V99.
           05  DELTA          PIC S9(3) SIGN LEADING SEPARATE.
           05  AUTHOR         PIC X(10).

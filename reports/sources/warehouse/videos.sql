select * from videos
